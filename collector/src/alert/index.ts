import type { AlertsConfig } from './config.js';
import { createNotifiers, Dispatcher, type Log } from './notify.js';

export { alertsSchema, type AlertsConfig, type NotifierConfig } from './config.js';
export {
  Dispatcher,
  createNotifiers,
  sign,
  slackMessage,
  SIGNATURE_HEADER,
  type Notifier,
  type Log,
} from './notify.js';
export { alertRecorder, applyPass, listAlerts, loadStates } from './state.js';

/** What owns a dispatcher: the running collector's deps (any object carrying the alerts config). */
interface DispatcherOwner {
  config: { alerts: AlertsConfig };
}

const dispatchers = new WeakMap<DispatcherOwner, Dispatcher>();

/** One notification dispatcher per running collector, shared by the scheduler and POST /api/detect. */
export function dispatcherFor(deps: DispatcherOwner, log?: Log): Dispatcher {
  let d = dispatchers.get(deps);
  if (!d) {
    d = new Dispatcher(createNotifiers(deps.config.alerts), deps.config.alerts.delivery, log);
    dispatchers.set(deps, d);
  }
  return d;
}
