import type { AppDeps } from '../server/deps.js';
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
export { applyPass, listAlerts, loadStates } from './state.js';

const dispatchers = new WeakMap<AppDeps, Dispatcher>();

/** One notification dispatcher per running collector, shared by the scheduler and POST /api/detect. */
export function dispatcherFor(deps: AppDeps, log?: Log): Dispatcher {
  let d = dispatchers.get(deps);
  if (!d) {
    d = new Dispatcher(createNotifiers(deps.config.alerts), deps.config.alerts.delivery, log);
    dispatchers.set(deps, d);
  }
  return d;
}
