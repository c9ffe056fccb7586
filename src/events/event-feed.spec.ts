import { StoreClosedError } from '@forest/store';
import { EventFeed, FeedSource, FeedSubscriber, OpenSource, SourceHandlers } from './event-feed';
import { StreamEvent } from './stream-event';

/** A source opened by hand: each open waits until the test lets it through. */
class ManualSource implements FeedSource {
  readonly type = 'worker' as const;
  opens: { from?: number; handlers: SourceHandlers; closed: boolean }[] = [];
  private release: (() => void)[] = [];

  open(handlers: SourceHandlers, fromRevision?: number): Promise<OpenSource> {
    const entry = { from: fromRevision, handlers, closed: false };
    this.opens.push(entry);
    return new Promise((resolve) =>
      this.release.push(() =>
        resolve({
          coveredFrom: fromRevision ?? 100,
          close: () => {
            entry.closed = true;
            return Promise.resolve();
          },
        }),
      ),
    );
  }

  letThrough(): void {
    for (const release of this.release.splice(0)) release();
  }
}

class Subscriber implements FeedSubscriber {
  got: number[] = [];
  resets = 0;
  ended = false;
  deliver(event: StreamEvent): void {
    this.got.push(event.revision);
  }
  reset(): void {
    this.resets++;
  }
  end(): void {
    this.ended = true;
  }
}

const event = (revision: number): StreamEvent => ({
  type: 'worker',
  revision,
  data: { change: 'left', group: 'g', workerId: 'w' },
});

describe('EventFeed', () => {
  afterEach(() => jest.useRealTimers());

  it('shares one open between clients that arrive while it opens', async () => {
    const source = new ManualSource();
    const feed = new EventFeed(source);
    const a = new Subscriber();
    const b = new Subscriber();
    const joins = Promise.all([feed.subscribe(a), feed.subscribe(b)]);
    source.letThrough();
    await joins;
    expect(source.opens).toHaveLength(1);
    source.opens[0].handlers.emit([event(101)]);
    expect([a.got, b.got]).toEqual([[101], [101]]);
  });

  it('closes an open that completes after its last client left', async () => {
    const source = new ManualSource();
    const feed = new EventFeed(source);
    const a = new Subscriber();
    const join = feed.subscribe(a);
    feed.unsubscribe(a);
    expect(feed.isOpen).toBe(false);
    source.letThrough();
    await join;
    await Promise.resolve();
    expect(source.opens[0].closed).toBe(true);
    expect(feed.isOpen).toBe(false);
  });

  it('keeps only the last events for replay and resets a client resuming before them', async () => {
    const source = new ManualSource();
    const feed = new EventFeed(source, 2);
    const a = new Subscriber();
    const join = feed.subscribe(a);
    source.letThrough();
    await join;
    source.opens[0].handlers.emit([event(101), event(102), event(103), event(104), event(105)]);
    // Five events with room for two: trimmed to the last two, up to 103 dropped.
    await expect(feed.subscribe(new Subscriber(), 103)).resolves.toEqual({
      replay: [event(104), event(105)],
      reset: false,
    });
    await expect(feed.subscribe(new Subscriber(), 102)).resolves.toEqual({
      replay: [],
      reset: true,
    });
  });

  it('resets its clients when its watch fails and reopens from now', async () => {
    jest.useFakeTimers();
    const source = new ManualSource();
    const feed = new EventFeed(source);
    const a = new Subscriber();
    const join = feed.subscribe(a);
    source.letThrough();
    await join;
    source.opens[0].handlers.fail(new Error('compacted'));
    expect(a.resets).toBe(1);
    jest.advanceTimersByTime(1000);
    expect(source.opens).toHaveLength(2);
    source.letThrough();
    await Promise.resolve();
    await Promise.resolve();
    // Events of the failed watch are ignored; the new one's arrive.
    source.opens[0].handlers.emit([event(200)]);
    source.opens[1].handlers.emit([event(201)]);
    expect(a.got).toEqual([201]);
  });

  it('ends its clients when the store closes', async () => {
    const source = new ManualSource();
    const feed = new EventFeed(source);
    const a = new Subscriber();
    const join = feed.subscribe(a);
    source.letThrough();
    await join;
    source.opens[0].handlers.fail(new StoreClosedError());
    expect(a.ended).toBe(true);
    expect(feed.subscriberCount).toBe(0);
  });
});
