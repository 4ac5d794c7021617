import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Controller, Get, Module, Res } from '@nestjs/common';
import { RateLimit, ResilienceModule } from '../../lib/index.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';

@Controller('own')
class OwnResponseController {
  // The handler sends the response itself (@Res()): our headers must not come after it.
  @Get()
  @RateLimit({ name: 'own_response', rate: 5, per: 60, key: 'global' })
  async send(
    @Res() res: {
      status?: (code: number) => unknown;
      code?: (code: number) => unknown;
      send: (body: string) => unknown;
    },
  ) {
    res.send('sent by the handler');
  }
}

@Module({
  imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
  controllers: [OwnResponseController],
})
class OwnResponseModule {}

for (const platform of PLATFORMS) {
  describe(`a decorated route that sends its own response (${platform})`, () => {
    it('answers as the handler did, with no error after it', async () => {
      const errors: unknown[] = [];
      const onError = (error: unknown) => errors.push(error);
      process.on('uncaughtException', onError);
      const { app, url } = await startHttpApp(OwnResponseModule, platform, undefined);
      const logged: string[] = [];
      app.useLogger({ log() {}, warn() {}, error: (m: unknown) => logged.push(String(m)) });
      try {
        for (let i = 0; i < 2; i++) {
          const response = await fetch(`${url}/own`);
          assert.equal(response.status, 200);
          assert.equal(await response.text(), 'sent by the handler');
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.deepEqual(logged, [], 'Nest logged no error (e.g. headers set after they were sent)');
        assert.deepEqual(errors, []);
      } finally {
        process.off('uncaughtException', onError);
        await app.close();
      }
    });
  });
}
