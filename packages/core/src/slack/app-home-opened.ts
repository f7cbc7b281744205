import type { PublishAppHomeJob } from "../app-home/publish-app-home";

/** The parts of an Events API `app_home_opened` event this reads (Slack sends more). */
export interface AppHomeOpenedEvent {
  type: string;
  user?: string;
  /** `home` or `messages`: the tab the person opened. */
  tab?: string;
  /** The app's DM channel with the person. */
  channel?: string;
}

/**
 * The Home tab to publish for an `app_home_opened` event, or undefined when the event is not one
 * (another type, the Messages tab, no user). Slack sends it on every opening of the tab.
 */
export function appHomeJobFromEvent(
  event: AppHomeOpenedEvent,
  envelope: { team_id?: string | undefined },
  requestId: string,
): PublishAppHomeJob | undefined {
  if (event.type !== "app_home_opened" || event.tab !== "home" || !event.user) return undefined;
  return {
    requestId,
    userId: event.user,
    ...(envelope.team_id ? { teamId: envelope.team_id } : {}),
    ...(event.channel ? { channel: event.channel } : {}),
  };
}
