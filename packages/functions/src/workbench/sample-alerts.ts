/**
 * What Azure would send `/listener` when a queue's dead-letter count rises: an Azure Monitor metric
 * alert (common alert schema) or an Event Grid `DeadletterMessagesAvailableWithNoListeners` event.
 * Shaped like the samples in alert-parsing.test.ts, with ids a real subscription would carry.
 */
export type SampleAlertKind = "azure-monitor" | "event-grid";

export interface SampleAlertTarget {
  namespace: string;
  queue: string;
  /** The metric value Azure Monitor reports (the dead-letter count). */
  count: number;
  now: Date;
}

const SUBSCRIPTION = "00000000-0000-0000-0000-00000000c0de";
const RESOURCE_GROUP = "victoria-local-rg";

function namespaceResourceId(namespace: string): string {
  return `/subscriptions/${SUBSCRIPTION}/resourcegroups/${RESOURCE_GROUP}/providers/microsoft.servicebus/namespaces/${namespace}`;
}

export function sampleAlert(kind: SampleAlertKind, target: SampleAlertTarget): unknown {
  return kind === "azure-monitor" ? azureMonitorAlert(target) : eventGridEvents(target);
}

function azureMonitorAlert({ namespace, queue, count, now }: SampleAlertTarget) {
  const windowEnd = now.toISOString();
  const windowStart = new Date(now.getTime() - 5 * 60_000).toISOString();
  return {
    schemaId: "azureMonitorCommonAlertSchema",
    data: {
      essentials: {
        alertId: `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.AlertsManagement/alerts/${crypto.randomUUID()}`,
        alertRule: `dead-letters-${namespace}`,
        severity: "Sev3",
        signalType: "Metric",
        monitorCondition: "Fired",
        monitoringService: "Platform",
        alertTargetIDs: [namespaceResourceId(namespace)],
        configurationItems: [namespace],
        firedDateTime: windowEnd,
        description: "Dead-lettered messages on a Service Bus queue (sent by the local workbench)",
        essentialsVersion: "1.0",
        alertContextVersion: "1.0",
      },
      alertContext: {
        properties: null,
        conditionType: "SingleResourceMultipleMetricCriteria",
        condition: {
          windowSize: "PT5M",
          allOf: [
            {
              metricName: "DeadletteredMessages",
              metricNamespace: "Microsoft.ServiceBus/namespaces",
              operator: "GreaterThan",
              threshold: "0",
              timeAggregation: "Average",
              dimensions: [{ name: "EntityName", value: queue }],
              metricValue: count,
              webTestName: null,
            },
          ],
          windowStartTime: windowStart,
          windowEndTime: windowEnd,
        },
      },
      customProperties: null,
    },
  };
}

function eventGridEvents({ namespace, queue, now }: SampleAlertTarget) {
  return [
    {
      topic: `/subscriptions/${SUBSCRIPTION}/resourcegroups/${RESOURCE_GROUP}/providers/Microsoft.ServiceBus/namespaces/${namespace}`,
      subject: `queues/${queue}`,
      eventType: "Microsoft.ServiceBus.DeadletterMessagesAvailableWithNoListeners",
      eventTime: now.toISOString(),
      id: crypto.randomUUID(),
      data: {
        namespaceName: `${namespace}.servicebus.windows.net`,
        requestUri: `https://${namespace}.servicebus.windows.net/${queue}/$deadletterqueue/messages/head`,
        entityType: "queue",
        queueName: queue,
        topicName: null,
        subscriptionName: null,
      },
      dataVersion: "1",
      metadataVersion: "1",
    },
  ];
}
