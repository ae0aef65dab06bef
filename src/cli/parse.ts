// Option parsers for commander: each rejects bad input with a one-line message.
import { InvalidArgumentError } from 'commander';

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got '${value}'`);
  return n;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

export function oneOf<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got '${value}'`);
    return value as T;
  };
}

/** A comma-separated list of distinct choices. */
export function oneOfList<T extends string>(choices: readonly T[]) {
  const one = oneOf(choices);
  return (value: string): T[] => {
    const out = value.split(',').map((s) => one(s.trim()));
    if (new Set(out).size !== out.length) throw new InvalidArgumentError(`duplicate values in '${value}'`);
    return out;
  };
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got '${value}'`);
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative number, got '${value}'`);
  return n;
}

export function positiveIntList(value: string): number[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === '')) throw new InvalidArgumentError(`expected a comma-separated list of positive integers, got '${value}'`);
  const out = items.map(positiveInt);
  if (new Set(out).size !== out.length) throw new InvalidArgumentError(`duplicate values in '${value}'`);
  return out;
}

export function nonNegativeIntList(value: string): number[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => !/^\d+$/.test(s))) throw new InvalidArgumentError(`expected a comma list of non-negative integers, got '${value}'`);
  return items.map(Number);
}

/** A number in (0, 1], or in (0, 1) when `includeOne` is false (a sampling rate; a delta). */
export function fraction(includeOne: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 1 || (n === 1 && !includeOne)) {
      throw new InvalidArgumentError(`expected a number in (0, 1${includeOne ? ']' : ')'}, got '${value}'`);
    }
    return n;
  };
}
