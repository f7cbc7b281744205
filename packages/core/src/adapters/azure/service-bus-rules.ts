import type {
  CorrelationRuleFilter,
  RuleProperties,
  ServiceBusAdministrationClient,
  SqlRuleFilter,
} from "@azure/service-bus";
import { EntityNotFoundError, type SqlRule, type SubscriptionRules } from "../../deadletter/bus";

/**
 * Subscription rules through `ServiceBusAdministrationClient` (the management API over HTTPS):
 * what a subscription replay reads before it sends, and what `deadletter rules install` writes.
 */
export type AdministrationClientFactory = (connectionString: string) => ServiceBusAdministrationClient;

function isSqlFilter(filter: RuleProperties["filter"]): filter is SqlRuleFilter {
  return typeof (filter as SqlRuleFilter).sqlExpression === "string";
}

/** `correlationId=abc, tier=gold`: what a correlation filter matches, for the operator. */
function correlationSummary(filter: CorrelationRuleFilter): string {
  const fields = Object.entries({
    correlationId: filter.correlationId,
    messageId: filter.messageId,
    to: filter.to,
    replyTo: filter.replyTo,
    subject: filter.subject,
    sessionId: filter.sessionId,
    replyToSessionId: filter.replyToSessionId,
    contentType: filter.contentType,
    ...filter.applicationProperties,
  }).filter(([, value]) => value !== undefined);
  return fields.map(([key, value]) => `${key}=${String(value)}`).join(", ") || "(empty)";
}

function notFound(error: unknown, entity: string): never {
  if ((error as { statusCode?: number }).statusCode === 404)
    throw new EntityNotFoundError(entity, { cause: error });
  throw error;
}

export async function readSubscriptionRules(
  admin: ServiceBusAdministrationClient,
  topic: string,
): Promise<SubscriptionRules[]> {
  const result: SubscriptionRules[] = [];
  try {
    for await (const subscription of admin.listSubscriptions(topic)) {
      const rules: SubscriptionRules["rules"] = [];
      for await (const rule of admin.listRules(topic, subscription.subscriptionName)) {
        rules.push({
          name: rule.name,
          filter: isSqlFilter(rule.filter)
            ? { kind: "sql", expression: rule.filter.sqlExpression }
            : { kind: "correlation", summary: correlationSummary(rule.filter) },
        });
      }
      result.push({ name: subscription.subscriptionName, rules });
    }
  } catch (error) {
    notFound(error, topic);
  }
  return result;
}

export async function putSqlRule(
  admin: ServiceBusAdministrationClient,
  topic: string,
  subscription: string,
  rule: SqlRule,
): Promise<void> {
  const existing = await admin.getRule(topic, subscription, rule.name).catch((error: unknown) => {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  });
  try {
    if (!existing) {
      await admin.createRule(topic, subscription, rule.name, { sqlExpression: rule.expression });
      return;
    }
    // The whole rule goes back (the API replaces it): keep its action, change the filter.
    const parameters = isSqlFilter(existing.filter) ? existing.filter.sqlParameters : undefined;
    await admin.updateRule(topic, subscription, {
      ...existing,
      filter: { sqlExpression: rule.expression, ...(parameters ? { sqlParameters: parameters } : {}) },
    });
  } catch (error) {
    notFound(error, `${topic}/Subscriptions/${subscription}`);
  }
}
