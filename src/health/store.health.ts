import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { CoordinationStore } from '@forest/store';
import { InjectStore } from '../store/store.tokens';

const STORE_CHECK_TIMEOUT_MS = 2000;

/** Up when the coordination store answers a cheap read within a short deadline. */
@Injectable()
export class StoreHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @InjectStore() private readonly store: CoordinationStore,
  ) {}

  async check(key: string): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${STORE_CHECK_TIMEOUT_MS} ms`)),
          STORE_CHECK_TIMEOUT_MS,
        );
      });
      const revision = await Promise.race([this.store.revision(), timeout]);
      return indicator.up({ kind: this.store.kind, revision });
    } catch (error) {
      return indicator.down({ kind: this.store.kind, message: (error as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }
}
