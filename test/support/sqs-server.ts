import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AwsQueryProtocol } from '@aws-sdk/core/protocols';
import sqslite from 'sqslite';

/**
 * A local SQS server (sqslite, the query protocol) on a free port. The client speaks the
 * AWS query protocol and names the host `localhost`, which sqslite needs. Every request
 * has a timeout: sqslite never answers some error cases.
 */
export async function startSqs(): Promise<{
  client: SQSClient;
  createQueue(name: string): Promise<string>;
  stop(): Promise<void>;
}> {
  const server = sqslite({ logger: false } as never) as {
    listen(o: { port: number; host: string }): Promise<string>;
    close(): Promise<void>;
  };
  const address = await server.listen({ port: 0, host: 'localhost' });
  const port = new URL(address).port;
  const client = new SQSClient({
    region: 'us-east-1',
    endpoint: `http://localhost:${port}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: { requestTimeout: 5000, connectionTimeout: 2000 },
    protocol: new AwsQueryProtocol({
      defaultNamespace: 'com.amazonaws.sqs',
      xmlNamespace: 'http://queue.amazonaws.com/doc/2012-11-05/',
      version: '2012-11-05',
    }),
  } as never);
  return {
    client,
    createQueue: async (name) => (await client.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string,
    stop: async () => {
      client.destroy();
      await server.close();
    },
  };
}
