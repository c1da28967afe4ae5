// A failed call said in words a user can act on, from its google.rpc.Status ({code, message}).

const CODE = { INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, PERMISSION_DENIED: 7, FAILED_PRECONDITION: 9, UNAVAILABLE: 14, UNAUTHENTICATED: 16 };
const NAMES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];
const VERBS = { CancelJob: 'cancelled', PauseJob: 'paused', ResumeJob: 'resumed', TriggerNow: 'triggered now', ReplayDeadLetters: 'replayed' };
const FINISHED = new Set(['DONE', 'FAILED', 'DEAD', 'CANCELLED']);
const SERVICE_OF = { monitor: 'monitor', scheduler: 'scheduler', 'order-aggregator': 'order aggregator', 'stock-processor': 'stock processor' };

const sentence = (s) => (/[.!?]$/.test(s) ? s : `${s}.`);

/** method is "scheduler/CancelJob"; status is {code, message, service?}. */
export function describeFailure(method, status) {
  const [service, name] = method.split('/');
  const who = SERVICE_OF[status?.service ?? service] ?? service;
  const details = status?.message ?? '';
  const verb = VERBS[name] ?? 'done';
  const what = /Job$|^TriggerNow$/.test(name) ? 'The job' : 'It';
  switch (status?.code) {
    case CODE.FAILED_PRECONDITION: {
      const st = /status(?: is)? ([A-Z_]+)/.exec(details)?.[1];
      if (st && FINISHED.has(st)) return `${what} has finished (${st}), so it cannot be ${verb}.`;
      if (st) return `${what} is ${st}, so it cannot be ${verb}.`;
      return sentence(`${what} cannot be ${verb} now: ${details}`);
    }
    case CODE.NOT_FOUND:
      return sentence(`Not found: ${details}`);
    case CODE.PERMISSION_DENIED:
      return sentence(`Your token does not allow this (${details})`);
    case CODE.UNAUTHENTICATED:
      return sentence(`Your token was not accepted (${details}): log in again`);
    case CODE.INVALID_ARGUMENT:
      return sentence(`The request was refused: ${details}`);
    case CODE.UNAVAILABLE:
      return sentence(`The ${who} cannot be reached: ${details}`);
    case CODE.DEADLINE_EXCEEDED:
      return `The ${who} did not answer in time.`;
    case undefined:
      return sentence(details || 'The dashboard could not answer');
    default:
      return sentence(`${NAMES[status.code] ?? status.code} from the ${who}: ${details}`);
  }
}
