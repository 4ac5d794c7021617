import type { SQSClient } from '@aws-sdk/client-sqs';
import { LetterCodec } from '../core/dead-letter/codec.js';
import {
  type DamagedLetter,
  type DeadLetterBackend,
  type DeadLetterRecord,
  type ListOptions,
  type ListPage,
  matchesFilter,
} from '../core/dead-letter/types.js';

type SqsModule = typeof import('@aws-sdk/client-sqs');

export interface SqsDeadLetterBackendOptions {
  queueUrl: string;
  region?: string;
  /** A custom endpoint (a local SQS server in tests). */
  endpoint?: string;
  /** A client of your own (credentials, protocol, HTTP options); the backend does not destroy it. */
  client?: SQSClient;
  codec?: LetterCodec;
  /** Sets the queue's MessageRetentionPeriod (SQS allows 14 days at most). */
  retentionDays?: number;
  /** Seconds a scan hides the messages it reads. Default 30. */
  scanVisibility?: number;
}

/**
 * Dead letters in an SQS queue. `@aws-sdk/client-sqs` is an optional peer, loaded on
 * first use. Adds are one SendMessage; size is ApproximateNumberOfMessages (visible and
 * in flight). SQS is a queue, not a store: reading a given letter, listing, and deleting
 * or updating one scan the queue (receive with a visibility timeout, then make the
 * messages visible again), so they cost O(queue); use Redis where queues are large.
 */
export class SqsDeadLetterBackend implements DeadLetterBackend {
  readonly kind = 'sqs';
  /** SQS's own limit on a message body. */
  readonly maxMessageSize = 256 * 1024;
  onDamaged?: (damage: DamagedLetter) => void;
  private readonly options: SqsDeadLetterBackendOptions;
  private readonly codec: LetterCodec;
  private loaded?: Promise<{ sdk: SqsModule; client: SQSClient }>;

  constructor(options: SqsDeadLetterBackendOptions) {
    this.options = options;
    this.codec = options.codec ?? new LetterCodec();
  }

  private load(): Promise<{ sdk: SqsModule; client: SQSClient }> {
    this.loaded ??= (async () => {
      let sdk: SqsModule;
      try {
        sdk = await import('@aws-sdk/client-sqs');
      } catch (error) {
        throw new Error(
          'The SQS dead-letter backend needs the optional peer "@aws-sdk/client-sqs": npm i @aws-sdk/client-sqs',
          {
            cause: error,
          },
        );
      }
      const client =
        this.options.client ??
        new sdk.SQSClient({
          region: this.options.region,
          endpoint: this.options.endpoint,
          requestHandler: { requestTimeout: 10_000, connectionTimeout: 3_000 },
        });
      if (this.options.retentionDays !== undefined) {
        const seconds = Math.min(1_209_600, Math.max(60, Math.round(this.options.retentionDays * 86_400)));
        await client.send(
          new sdk.SetQueueAttributesCommand({
            QueueUrl: this.options.queueUrl,
            Attributes: { MessageRetentionPeriod: String(seconds) },
          }),
        );
      }
      return { sdk, client };
    })();
    return this.loaded;
  }

  async add(letter: DeadLetterRecord): Promise<undefined> {
    const { sdk, client } = await this.load();
    await client.send(
      new sdk.SendMessageCommand({
        QueueUrl: this.options.queueUrl,
        MessageBody: this.codec.encode(letter),
        MessageAttributes: { letterId: { DataType: 'String', StringValue: letter.id } },
      }),
    );
  }

  async get(id: string): Promise<DeadLetterRecord | undefined> {
    return (await this.rewrite((letters) => letters)).find((l) => l.id === id);
  }

  async update(letter: DeadLetterRecord): Promise<void> {
    let found = false;
    await this.rewrite((letters) =>
      letters.map((l) => {
        if (l.id !== letter.id) return l;
        found = true;
        return letter;
      }),
    );
    if (!found) throw new Error(`dead letter ${letter.id} does not exist`);
  }

  async delete(id: string): Promise<boolean> {
    let found = false;
    await this.rewrite((letters) => {
      const kept = letters.filter((l) => l.id !== id);
      found = kept.length < letters.length;
      return kept;
    });
    return found;
  }

  async list({ filter, limit = 50, cursor }: ListOptions, now: number): Promise<ListPage> {
    const all = (await this.rewrite((letters) => letters)).filter(
      (l) => (cursor === undefined || l.id > cursor) && matchesFilter(l, filter, now),
    );
    const items = all.slice(0, limit);
    return all.length > limit ? { items, next: items[items.length - 1].id } : { items };
  }

  async size(): Promise<number> {
    const { sdk, client } = await this.load();
    const { Attributes } = await client.send(
      new sdk.GetQueueAttributesCommand({
        QueueUrl: this.options.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  }

  async oldest(): Promise<DeadLetterRecord | undefined> {
    return (await this.rewrite((letters) => letters))[0];
  }

  async deleteOlderThan(epochMs: number): Promise<number> {
    let removed = 0;
    await this.rewrite((letters) => {
      const kept = letters.filter((l) => l.createdAt >= epochMs);
      removed = letters.length - kept.length;
      return kept;
    });
    return removed;
  }

  async purge(): Promise<number> {
    let removed = 0;
    await this.rewrite((letters) => {
      removed = letters.length;
      return [];
    });
    return removed;
  }

  async close(): Promise<void> {
    if (!this.options.client && this.loaded) (await this.loaded).client.destroy();
  }

  /**
   * Reads the whole queue and writes back what `transform` keeps: every message is
   * received, the kept letters are sent again (sorted, one per letter id), and only then
   * are the received messages deleted, so a failure midway duplicates, never loses.
   */
  private async rewrite(transform: (letters: DeadLetterRecord[]) => DeadLetterRecord[]): Promise<DeadLetterRecord[]> {
    const { sdk, client } = await this.load();
    const letters = new Map<string, DeadLetterRecord>();
    const bodies = new Map<string, string>();
    const handles: string[] = [];
    // Messages that cannot be read are reported and sent back unchanged: never dropped.
    const unreadable: string[] = [];
    for (;;) {
      const { Messages } = await client.send(
        new sdk.ReceiveMessageCommand({
          QueueUrl: this.options.queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: this.options.scanVisibility ?? 30,
          WaitTimeSeconds: 0,
        }),
      );
      if (!Messages?.length) break;
      for (const m of Messages) {
        if (m.ReceiptHandle) handles.push(m.ReceiptHandle);
        if (!m.Body) continue;
        let letter: DeadLetterRecord;
        try {
          letter = this.codec.decode(m.Body);
        } catch (error) {
          unreadable.push(m.Body);
          this.onDamaged?.({ id: m.MessageId, reason: (error as Error).message });
          continue;
        }
        letters.set(letter.id, letter);
        bodies.set(letter.id, m.Body);
      }
    }
    if (handles.length === 0) return transform([]);
    const before = [...letters.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    const kept = transform(before);
    const outgoing = [
      ...kept.map((letter) => ({
        body: letters.get(letter.id) === letter ? (bodies.get(letter.id) as string) : this.codec.encode(letter),
        id: letter.id,
      })),
      ...unreadable.map((body) => ({ body, id: 'unreadable' })),
    ];
    for (let i = 0; i < outgoing.length; i += 10) {
      const entries = outgoing.slice(i, i + 10).map((m, j) => ({
        Id: String(j),
        MessageBody: m.body,
        MessageAttributes: { letterId: { DataType: 'String', StringValue: m.id } },
      }));
      const { Failed } = await client.send(
        new sdk.SendMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: entries }),
      );
      if (Failed?.length)
        throw new Error(`SQS refused to re-send ${Failed.length} dead letters; the originals are kept`);
    }
    await this.remove([...new Set(handles)]);
    return kept;
  }

  /** One DeleteMessage per handle, 10 at a time (local SQS servers get the batch call wrong). */
  private async remove(handles: string[]): Promise<void> {
    if (handles.length === 0) return;
    const { sdk, client } = await this.load();
    for (let i = 0; i < handles.length; i += 10) {
      await Promise.all(
        handles
          .slice(i, i + 10)
          .map((ReceiptHandle) =>
            client.send(new sdk.DeleteMessageCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle })),
          ),
      );
    }
  }
}
