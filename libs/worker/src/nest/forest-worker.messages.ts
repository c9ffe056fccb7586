/** Where a `@ForestJob` method lives, for messages. */
export interface ForestJobSite {
  className: string;
  methodName: string;
}

export function duplicateTargetMessage(
  target: string,
  first: ForestJobSite,
  second: ForestJobSite,
): string {
  return (
    `@ForestJob('${target}') is declared twice: on ${first.className}.${first.methodName}() ` +
    `and on ${second.className}.${second.methodName}(). Each target needs exactly one handler.`
  );
}

export function nonStaticProviderMessage(
  className: string,
  methodName: string,
  target: string,
): string {
  return (
    `@ForestJob('${target}') on ${className}.${methodName}() is ignored: ${className} is ` +
    `request-scoped (or depends on a request-scoped provider); job handlers must be singletons.`
  );
}

export function invalidTargetMessage(className: string, methodName: string): string {
  return `@ForestJob() on ${className}.${methodName}() needs a non-empty target name`;
}
