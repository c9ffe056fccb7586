import { Inject } from '@nestjs/common';

/** Injection token of the CoordinationStore chosen by configuration. */
export const COORDINATION_STORE = Symbol('COORDINATION_STORE');

/** `constructor(@InjectStore() private readonly store: CoordinationStore)` */
export const InjectStore = (): ParameterDecorator => Inject(COORDINATION_STORE);
