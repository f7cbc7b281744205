import type { RouteMount } from "../app";
import { listenerRoute } from "../routes/listener";
import { readBusSettings, requireSetting } from "../settings";
import { ALERT_HAND_OFF_TIMEOUT_MS, type FrontDoorComposition } from "./front-door";

/** `POST /listener`: Azure's alerts and Event Grid events, each entity drained as a job. */
export function composeListenerRoute({ env, logger, dispatcher }: FrontDoorComposition): RouteMount {
  const router = listenerRoute({
    token: requireSetting(env, "LISTENER_TOKEN"),
    clusters: new Set(Object.keys(readBusSettings(env).connections)),
    dispatcher: dispatcher({ timeoutMs: ALERT_HAND_OFF_TIMEOUT_MS }),
    logger,
  });
  return { path: "/listener", method: "POST", router };
}
