/*
 * Linux (x86-64) errno values that sysLua returns, negated, and their strerror texts
 * as glibc prints them.
 */

export const errno = Object.freeze({
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  E2BIG: 7,
  ENOEXEC: 8,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EINVAL: 22,
  ETIME: 62,
  ESHUTDOWN: 108,
  ECANCELED: 125,
} as const);

export type ErrnoName = keyof typeof errno;

const messages: Record<number, string> = {
  [errno.EPERM]: 'Operation not permitted',
  [errno.ENOENT]: 'No such file or directory',
  [errno.EINTR]: 'Interrupted system call',
  [errno.E2BIG]: 'Argument list too long',
  [errno.ENOEXEC]: 'Exec format error',
  [errno.ENOMEM]: 'Cannot allocate memory',
  [errno.EFAULT]: 'Bad address',
  [errno.EBUSY]: 'Device or resource busy',
  [errno.EEXIST]: 'File exists',
  [errno.EINVAL]: 'Invalid argument',
  [errno.ETIME]: 'Timer expired',
  [errno.ESHUTDOWN]: 'Cannot send after transport endpoint shutdown',
  [errno.ECANCELED]: 'Operation canceled',
};

/** The message for an errno, given as returned (negative) or positive; like strerror(3). */
export function strerror(code: number): string {
  if (code === 0) return 'Success';
  return messages[Math.abs(code)] ?? `Unknown error ${Math.abs(code)}`;
}

/** The symbolic name of an errno (`-22` -> `EINVAL`), or undefined. */
export function errnoName(code: number): ErrnoName | undefined {
  const abs = Math.abs(code);
  return (Object.keys(errno) as ErrnoName[]).find((name) => errno[name] === abs);
}

/** The message of a call the host's JS stack was too deep to make (it gets -ENOMEM). */
export const STACK_EXHAUSTED = 'the host JavaScript stack is too deep to make this call';

/** What such a call answers, as one constant: the catches that return it may call nothing. */
export const STACK_FAILURE = Object.freeze({ rc: -errno.ENOMEM, error: STACK_EXHAUSTED });
