import { describe, expect, it } from "vitest";
import { clusterOf, entityFromName, ListenerInputError, parseListenerInput } from "./alert-parsing";

/*
 * Fixtures and where they come from:
 * - MS_COMMON: Microsoft Learn, "Sample alert payloads" (azure-monitor/alerts/alerts-payload-samples),
 *   the metric alert sample; target switched to a Service Bus namespace (lowercased, as Azure sends
 *   alertTargetIDs) and its condition to the DeadletteredMessages condition of the original's sample.
 * - ORIGINAL_SAMPLE: Glasswall-SRE/dead-letter-watcher `deadletter_listener/deadletter_watcher/sample_az_alert.py`
 *   (itself Microsoft's sample adapted to DeadletteredMessages), verbatim but for Python → JSON.
 * - ORIGINAL_TEST_ALERT: the alerts of the original's `tests/deadletter_watcher/test_triggered_alert.py`.
 * - MS_METRIC_ALERT: Microsoft Learn, "Noncommon alert schema definitions"
 *   (azure-monitor/alerts/alerts-non-common-schema-definitions), "Metric alerts: Static threshold".
 * - Event Grid: Microsoft Learn "Webhook event delivery" (event-grid/webhook-event-delivery, the
 *   SubscriptionValidationEvent) and "Azure Service Bus as an Event Grid source"
 *   (service-bus-messaging/includes/event-grid-service-bus.md, both schemas), with the placeholders filled.
 */

const SUB = "11111111-1111-1111-1111-111111111111";

function msCommon(
  overrides: { monitorCondition?: string; allOf?: unknown[]; alertTargetIDs?: string[] } = {},
) {
  return {
    schemaId: "azureMonitorCommonAlertSchema",
    data: {
      essentials: {
        alertId: `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e`,
        alertRule: "dl-wtcr",
        severity: "Sev3",
        signalType: "Metric",
        monitorCondition: overrides.monitorCondition ?? "Fired",
        monitoringService: "Platform",
        alertTargetIDs: overrides.alertTargetIDs ?? [
          `/subscriptions/${SUB}/resourcegroups/gw-icap-rg-uksprod1/providers/microsoft.servicebus/namespaces/gw-icap-sb-uksprod1`,
        ],
        configurationItems: ["gw-icap-sb-uksprod1"],
        originAlertId:
          "3f2d4487-b0fc-4125-8bd5-7ad17384221e_PipeLineAlertRG_microsoft.insights_metricAlerts_dl-wtcr_-117781227",
        firedDateTime: "2019-03-22T13:58:24.3713213Z",
        description: "",
        essentialsVersion: "1.0",
        alertContextVersion: "1.0",
      },
      alertContext: {
        properties: null,
        conditionType: "SingleResourceMultipleMetricCriteria",
        condition: {
          windowSize: "PT5M",
          allOf: overrides.allOf ?? [
            {
              metricName: "DeadletteredMessages",
              metricNamespace: "Microsoft.ServiceBus/namespaces",
              operator: "GreaterThan",
              threshold: "0",
              timeAggregation: "Average",
              dimensions: [{ name: "EntityName", value: "smtptransmission" }],
              metricValue: 31.1105,
              webTestName: null,
            },
          ],
          windowStartTime: "2019-03-22T13:40:03.064Z",
          windowEndTime: "2019-03-22T13:45:03.064Z",
        },
      },
      customProperties: null,
    },
  };
}

const ORIGINAL_SAMPLE = {
  schemaId: "azureMonitorCommonAlertSchema",
  data: {
    essentials: {
      alertId:
        "/subscriptions/<subscription ID>/providers/Microsoft.AlertsManagement/alerts/b9569717-bc32-442f-add5-83a997729330",
      alertRule: "WCUS-R2-Gen2",
      severity: "Sev3",
      signalType: "Metric",
      monitorCondition: "Resolved",
      monitoringService: "Platform",
      alertTargetIDs: ["glasswall-sb-weu-gwc-filetrust-dev"],
      originAlertId:
        "3f2d4487-b0fc-4125-8bd5-7ad17384221e_PipeLineAlertRG_microsoft.insights_metricAlerts_WCUS-R2-Gen2_-117781227",
      firedDateTime: "2020-06-26T14:58:24.3713213Z",
      resolvedDateTime: "2019-03-22T14:03:16.2246313Z",
      description: "",
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
            dimensions: [{ name: "EntityName", value: "smtptransmission" }],
            metricValue: 31.1105,
          },
        ],
        windowStartTime: "2019-03-22T13:40:03.064Z",
        windowEndTime: "2019-03-22T13:45:03.064Z",
      },
    },
  },
};

function originalTestAlert(condition: Record<string, unknown>, context: Record<string, unknown> = {}) {
  return {
    schemaId: "test",
    data: {
      essentials: { alertContextVersion: "1.0" },
      context: {
        properties: null,
        condition: { windowSize: "PT5M", allOf: [condition], windowStartTime: "2019-03-22T13:40:03.064Z" },
        ...context,
      },
    },
  };
}

function msMetricAlert(status: string, allOf: unknown[]) {
  return {
    schemaId: "AzureMonitorMetricAlert",
    data: {
      version: "2.0",
      properties: { customKey1: "value1", customKey2: "value2" },
      status,
      context: {
        timestamp: "2021-11-15T09:35:12.9703687Z",
        id: `/subscriptions/${SUB}/resourceGroups/gw-icap-rg-uksprod1/providers/microsoft.insights/metricAlerts/dl-wtcr`,
        name: "dl-wtcr",
        description: "Trigger for deadletter appearing in service bus queue",
        conditionType: "SingleResourceMultipleMetricCriteria",
        severity: "3",
        condition: { windowSize: "PT5M", allOf },
        subscriptionId: SUB,
        resourceGroupName: "gw-icap-rg-uksprod1",
        resourceName: "gw-icap-sb-uksprod1",
        resourceType: "Microsoft.ServiceBus/namespaces",
        resourceId: `/subscriptions/${SUB}/resourceGroups/gw-icap-rg-uksprod1/providers/Microsoft.ServiceBus/namespaces/gw-icap-sb-uksprod1`,
        portalLink: `https://portal.azure.com/#resource/subscriptions/${SUB}/resourceGroups/gw-icap-rg-uksprod1/providers/Microsoft.ServiceBus/namespaces/gw-icap-sb-uksprod1`,
      },
    },
  };
}

const activeMessagesCondition = {
  metricName: "ActiveMessages",
  metricNamespace: "Microsoft.ServiceBus/namespaces",
  operator: "GreaterThan",
  threshold: "1000",
  timeAggregation: "Average",
  dimensions: [{ name: "EntityName", value: "smtptransmission" }],
  metricValue: 1500,
  webTestName: null,
};
const deadLetterCondition = (entity: string, metricValue: number | string = 12) => ({
  metricName: "DeadletteredMessages",
  metricNamespace: "Microsoft.ServiceBus/namespaces",
  operator: "GreaterThan",
  threshold: "0",
  timeAggregation: "Average",
  dimensions: [{ name: "EntityName", value: entity }],
  metricValue,
  webTestName: null,
});

const VALIDATION = [
  {
    id: "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66",
    topic: "/subscriptions/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    subject: "",
    data: {
      validationCode: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
      validationUrl:
        "https://rp-eastus2.eventgrid.azure.net:553/eventsubscriptions/estest/validate?id=512d38b6-c7b8-40c8-89fe-f46f9e9622b6&t=2018-04-26T20:30:54.4538837Z&apiVersion=2018-05-01-preview&token=1A1A1A1A",
    },
    eventType: "Microsoft.EventGrid.SubscriptionValidationEvent",
    eventTime: "2018-01-25T22:12:19.4556811Z",
    metadataVersion: "1",
    dataVersion: "1",
  },
];

const NS_ID = `/subscriptions/${SUB}/resourcegroups/gw-icap-rg-uksprod1/providers/Microsoft.ServiceBus/namespaces/gw-icap-sb-uksprod1`;

function queueEvent(eventType: string, queue = "smtptransmission") {
  return {
    topic: NS_ID,
    subject: queue,
    eventType,
    eventTime: "2018-02-14T05:12:53.4133526Z",
    id: "dede87b0-3656-419c-acaf-70c95ddc60f5",
    data: {
      namespaceName: "gw-icap-sb-uksprod1",
      requestUri: `https://gw-icap-sb-uksprod1.servicebus.windows.net/${queue}/$deadletterqueue/messages/head`,
      entityType: "queue",
      queueName: queue,
      topicName: null,
      subscriptionName: null,
    },
    dataVersion: "1",
    metadataVersion: "1",
  };
}

function subscriptionEvent(eventType: string) {
  return {
    topic: NS_ID,
    subject: "topics/transactions/subscriptions/audit",
    eventType,
    eventTime: "2018-02-14T05:13:23.4133526Z",
    id: "0f0c5e1e-7c3c-4d39-9d7f-6d3b8c3b7a11",
    data: {
      namespaceName: "gw-icap-sb-uksprod1",
      requestUri:
        "https://gw-icap-sb-uksprod1.servicebus.windows.net/transactions/subscriptions/audit/$deadletterqueue/messages/head",
      entityType: "subscriber",
      queueName: null,
      topicName: "transactions",
      subscriptionName: "audit",
    },
    dataVersion: "1",
    metadataVersion: "1",
  };
}

const NO_LISTENERS = "Microsoft.ServiceBus.DeadletterMessagesAvailableWithNoListeners";
const PERIODIC = "Microsoft.ServiceBus.DeadletterMessagesAvailablePeriodicNotifications";

function parseError(body: unknown): string {
  try {
    parseListenerInput(body);
  } catch (error) {
    expect(error).toBeInstanceOf(ListenerInputError);
    expect((error as Error).name).toBe("ListenerInputError");
    return (error as Error).message;
  }
  throw new Error("expected a ListenerInputError");
}

describe("parseListenerInput: Azure Monitor common alert schema", () => {
  it("reads a fired DeadletteredMessages alert: namespace from the resource id, entity, count, time", () => {
    expect(parseListenerInput(msCommon())).toEqual({
      kind: "dead-letters",
      source: "azure-monitor",
      alerts: [
        {
          namespace: "gw-icap-sb-uksprod1",
          entity: { kind: "queue", queue: "smtptransmission" },
          count: 31.1105,
          firedAt: "2019-03-22T13:58:24.3713213Z",
        },
      ],
    });
  });

  it("treats the original's resolved sample as a no-op", () => {
    expect(parseListenerInput(ORIGINAL_SAMPLE)).toEqual({ kind: "resolved" });
    expect(parseListenerInput(msCommon({ monitorCondition: "Resolved" }))).toEqual({ kind: "resolved" });
  });

  it("takes a bare namespace name in alertTargetIDs, as in the original's sample", () => {
    const fired = structuredClone(ORIGINAL_SAMPLE);
    fired.data.essentials.monitorCondition = "Fired";
    const input = parseListenerInput(fired);
    expect(input).toMatchObject({ alerts: [{ namespace: "glasswall-sb-weu-gwc-filetrust-dev" }] });
  });

  it("reads every DeadletteredMessages condition, once per entity, and ignores other metrics", () => {
    const input = parseListenerInput(
      msCommon({
        allOf: [
          activeMessagesCondition,
          deadLetterCondition("orders", 3),
          deadLetterCondition("transactions/subscriptions/audit", 4),
          { ...deadLetterCondition("ORDERS", 5), timeAggregation: "Maximum" },
        ],
      }),
    );
    expect(input).toMatchObject({
      alerts: [
        { entity: { kind: "queue", queue: "orders" }, count: 3 },
        { entity: { kind: "subscription", topic: "transactions", subscription: "audit" }, count: 4 },
      ],
    });
    expect(input.kind === "dead-letters" && input.alerts).toHaveLength(2);
  });

  it.each([
    [
      "a condition without dimensions",
      msCommon({ allOf: [{ ...deadLetterCondition("x"), dimensions: undefined }] }),
      "data.alertContext.condition.allOf[0].dimensions: no EntityName dimension",
    ],
    [
      "dimensions without EntityName",
      msCommon({
        allOf: [
          activeMessagesCondition,
          { ...deadLetterCondition("x"), dimensions: [{ name: "OperationResult", value: "x" }] },
        ],
      }),
      "data.alertContext.condition.allOf[1].dimensions: no EntityName dimension",
    ],
    [
      "only other metrics",
      msCommon({ allOf: [activeMessagesCondition] }),
      "data.alertContext.condition.allOf: no DeadletteredMessages condition (metrics: ActiveMessages)",
    ],
    [
      "an unknown monitor condition",
      msCommon({ monitorCondition: "Acknowledged" }),
      'data.essentials.monitorCondition: expected "Fired" or "Resolved", got "Acknowledged"',
    ],
    [
      "a target that is not a Service Bus namespace",
      msCommon({
        alertTargetIDs: [
          "/subscriptions/<subscription ID>/resourcegroups/pipelinealertrg/providers/microsoft.compute/virtualmachines/wcus-r2-gen2",
        ],
      }),
      'data.essentials.alertTargetIDs[0]: not a Service Bus namespace resource id: "/subscriptions/<subscription ID>/resourcegroups/pipelinealertrg/providers/microsoft.compute/virtualmachines/wcus-r2-gen2"',
    ],
    [
      "an entity name that is neither a queue nor a subscription",
      msCommon({ allOf: [deadLetterCondition("a/b")] }),
      'data.alertContext.condition.allOf[0].dimensions: EntityName "a/b" is not a queue or topic subscription',
    ],
    [
      "no alertContext (not a metric alert)",
      { schemaId: "azureMonitorCommonAlertSchema", data: { essentials: { monitorCondition: "Fired" } } },
      "data.alertContext: missing (not a metric alert)",
    ],
  ])("refuses %s", (_, body, message) => {
    expect(parseError(body)).toBe(message);
  });
});

describe("parseListenerInput: Azure Monitor non-common metric alert schema", () => {
  it("reads a fired alert with two conditions, one not DeadletteredMessages", () => {
    const body = msMetricAlert("Activated", [
      activeMessagesCondition,
      deadLetterCondition("smtptransmission", 31.1105),
    ]);
    expect(parseListenerInput(body)).toEqual({
      kind: "dead-letters",
      source: "azure-monitor",
      alerts: [
        {
          namespace: "gw-icap-sb-uksprod1",
          entity: { kind: "queue", queue: "smtptransmission" },
          count: 31.1105,
          firedAt: "2021-11-15T09:35:12.9703687Z",
        },
      ],
    });
  });

  it.each(["Deactivated", "Resolved"])("treats status %s as a no-op", (status) => {
    expect(parseListenerInput(msMetricAlert(status, [deadLetterCondition("smtptransmission")]))).toEqual({
      kind: "resolved",
    });
  });

  it("reads the original's test alerts (no status, metricValue as a string) once they name the namespace", () => {
    const body = originalTestAlert(
      {
        metricName: "DeadletteredMessages",
        dimensions: [{ name: "EntityName", value: "smtptransmission" }],
        metricValue: "31.1105",
      },
      { resourceName: "gw-icap-sb-uksprod1", timestamp: "2019-03-22T13:45:03.064Z" },
    );
    expect(parseListenerInput(body)).toEqual({
      kind: "dead-letters",
      source: "azure-monitor",
      alerts: [
        {
          namespace: "gw-icap-sb-uksprod1",
          entity: { kind: "queue", queue: "smtptransmission" },
          count: 31.1105,
          firedAt: "2019-03-22T13:45:03.064Z",
        },
      ],
    });
  });

  it.each([
    [
      "Microsoft's storage sample (wrong metric only)",
      msMetricAlert("Activated", [
        {
          metricName: "Transactions",
          metricNamespace: "Microsoft.Storage/storageAccounts",
          operator: "GreaterThan",
          threshold: "0",
          timeAggregation: "Total",
          dimensions: [{ name: "ApiName", value: "GetBlob" }],
          metricValue: 100,
          webTestName: null,
        },
      ]),
      "data.context.condition.allOf: no DeadletteredMessages condition (metrics: Transactions)",
    ],
    [
      "a DeadletteredMessages condition without dimensions",
      msMetricAlert("Activated", [
        activeMessagesCondition,
        { metricName: "DeadletteredMessages", metricValue: 2 },
      ]),
      "data.context.condition.allOf[1].dimensions: no EntityName dimension",
    ],
    [
      "the original's test alert without resourceName",
      originalTestAlert({
        metricName: "DeadletteredMessages",
        dimensions: [{ name: "EntityName", value: "smtptransmission" }],
      }),
      "data.context.resourceName: Invalid input: expected string, received undefined",
    ],
    [
      "the original's test alert whose EntityName has no value",
      originalTestAlert(
        { metricName: "DeadletteredMessages", dimensions: [{ name: "EntityName" }] },
        { resourceName: "gw-icap-sb-uksprod1" },
      ),
      "data.context.condition.allOf[0].dimensions[0].value: Invalid input: expected string, received undefined",
    ],
    [
      "an empty allOf",
      msMetricAlert("Activated", []),
      "data.context.condition.allOf: no DeadletteredMessages condition (metrics: none)",
    ],
    [
      "an unknown status",
      msMetricAlert("Fired", [deadLetterCondition("x")]),
      'data.status: expected "Activated", "Deactivated" or "Resolved", got "Fired"',
    ],
  ])("refuses %s", (_, body, message) => {
    expect(parseError(body)).toBe(message);
  });
});

describe("parseListenerInput: Event Grid", () => {
  it("answers the subscription validation handshake with the code", () => {
    expect(parseListenerInput(VALIDATION)).toEqual({
      kind: "validation",
      validationResponse: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
    });
    expect(parseListenerInput(VALIDATION[0])).toEqual({
      kind: "validation",
      validationResponse: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
    });
  });

  it.each([NO_LISTENERS, PERIODIC])("reads %s for a queue", (eventType) => {
    expect(parseListenerInput([queueEvent(eventType)])).toEqual({
      kind: "dead-letters",
      source: "event-grid",
      alerts: [
        {
          namespace: "gw-icap-sb-uksprod1",
          entity: { kind: "queue", queue: "smtptransmission" },
          firedAt: "2018-02-14T05:12:53.4133526Z",
        },
      ],
    });
  });

  it.each([NO_LISTENERS, PERIODIC])("reads %s for a topic subscription", (eventType) => {
    expect(parseListenerInput([subscriptionEvent(eventType)])).toEqual({
      kind: "dead-letters",
      source: "event-grid",
      alerts: [
        {
          namespace: "gw-icap-sb-uksprod1",
          entity: { kind: "subscription", topic: "transactions", subscription: "audit" },
          firedAt: "2018-02-14T05:13:23.4133526Z",
        },
      ],
    });
  });

  it("reads a single event sent without the array", () => {
    expect(parseListenerInput(queueEvent(NO_LISTENERS))).toMatchObject({
      kind: "dead-letters",
      alerts: [{ entity: { kind: "queue", queue: "smtptransmission" } }],
    });
  });

  it("reads the CloudEvents 1.0 schema, and a namespace given as a host name", () => {
    const { topic, eventType, eventTime, dataVersion, metadataVersion, ...rest } =
      subscriptionEvent(PERIODIC);
    const cloudEvent = {
      ...rest,
      source: topic,
      type: eventType,
      time: eventTime,
      specversion: "1.0",
      data: { ...rest.data, namespaceName: "gw-icap-sb-uksprod1.servicebus.windows.net" },
    };
    expect(parseListenerInput([cloudEvent])).toEqual({
      kind: "dead-letters",
      source: "event-grid",
      alerts: [
        {
          namespace: "gw-icap-sb-uksprod1",
          entity: { kind: "subscription", topic: "transactions", subscription: "audit" },
          firedAt: "2018-02-14T05:13:23.4133526Z",
        },
      ],
    });
  });

  it("reads several events of one delivery, one alert per entity", () => {
    const input = parseListenerInput([
      queueEvent(NO_LISTENERS, "orders"),
      subscriptionEvent(PERIODIC),
      queueEvent(PERIODIC, "orders"),
      queueEvent(PERIODIC, "payments"),
    ]);
    expect(input).toMatchObject({
      kind: "dead-letters",
      source: "event-grid",
      alerts: [
        { entity: { kind: "queue", queue: "orders" } },
        { entity: { kind: "subscription", topic: "transactions", subscription: "audit" } },
        { entity: { kind: "queue", queue: "payments" } },
      ],
    });
    expect(input.kind === "dead-letters" && input.alerts).toHaveLength(3);
  });

  it.each([
    [
      "an unknown event type",
      [queueEvent("Microsoft.ServiceBus.ActiveMessagesAvailableWithNoListeners")],
      '[0].eventType: unsupported event type "Microsoft.ServiceBus.ActiveMessagesAvailableWithNoListeners"',
    ],
    [
      "an unknown event type in a single event",
      { ...queueEvent(NO_LISTENERS), eventType: "Microsoft.Storage.BlobCreated" },
      'eventType: unsupported event type "Microsoft.Storage.BlobCreated"',
    ],
    [
      "an unknown CloudEvents type",
      [{ specversion: "1.0", type: "Microsoft.Storage.BlobCreated", source: "/x", id: "1", data: {} }],
      '[0].type: unsupported event type "Microsoft.Storage.BlobCreated"',
    ],
    ["an empty delivery", [], "body: an empty Event Grid delivery"],
    [
      "an event that is not an object",
      [queueEvent(NO_LISTENERS), "x"],
      "[1]: expected an event object, got string",
    ],
    [
      "an event without eventType",
      [{ id: "1", data: {} }],
      "[0].eventType: Invalid input: expected string, received undefined",
    ],
    [
      "a validation event alongside others",
      [queueEvent(NO_LISTENERS), ...VALIDATION],
      "[1].eventType: a Microsoft.EventGrid.SubscriptionValidationEvent must be the only event of a delivery",
    ],
    [
      "a validation event without a code",
      [{ ...VALIDATION[0], data: { validationUrl: "https://example" } }],
      "[0].data.validationCode: Invalid input: expected string, received undefined",
    ],
    [
      "an unknown entity type",
      [{ ...queueEvent(NO_LISTENERS), data: { ...queueEvent(NO_LISTENERS).data, entityType: "topic" } }],
      '[0].data.entityType: Invalid option: expected one of "queue"|"subscriber"',
    ],
    [
      "a subscriber without subscriptionName",
      [
        {
          ...subscriptionEvent(NO_LISTENERS),
          data: { ...subscriptionEvent(NO_LISTENERS).data, subscriptionName: null },
        },
      ],
      '[0].data.subscriptionName: missing for entityType "subscriber"',
    ],
    [
      "a queue without queueName",
      [{ ...queueEvent(NO_LISTENERS), data: { ...queueEvent(NO_LISTENERS).data, queueName: null } }],
      '[0].data.queueName: missing for entityType "queue"',
    ],
    [
      "no namespaceName",
      [{ ...queueEvent(NO_LISTENERS), data: { entityType: "queue", queueName: "q" } }],
      "[0].data.namespaceName: Invalid input: expected string, received undefined",
    ],
  ])("refuses %s", (_, body, message) => {
    expect(parseError(body)).toBe(message);
  });
});

describe("parseListenerInput: anything else", () => {
  it.each([
    ["a string", "hello", "body: expected a JSON object or array, got string"],
    ["a number", 42, "body: expected a JSON object or array, got number"],
    ["a boolean", true, "body: expected a JSON object or array, got boolean"],
    ["null", null, "body: expected a JSON object or array, got null"],
    ["undefined", undefined, "body: expected a JSON object or array, got undefined"],
    [
      "an unrelated object",
      { hello: "world" },
      "body: not an Azure Monitor alert (no data.essentials or data.context) nor an Event Grid event (no eventType)",
    ],
    [
      "a common-schema id without essentials",
      { schemaId: "azureMonitorCommonAlertSchema", data: {} },
      "data.essentials: Invalid input: expected object, received undefined",
    ],
  ])("refuses %s", (_, body, message) => {
    expect(parseError(body)).toBe(message);
  });
});

describe("clusterOf", () => {
  it.each([
    ["gw-icap-sb-uksprod1", "uksprod1"],
    ["glasswall-sb-weu-gwc-filetrust-dev", "dev"],
    ["gw-icap-sb-northeurope-prod1", "prod1"],
    ["standalone", "standalone"],
    ["trailing-", ""],
    ["Mixed-Case-QA1", "QA1"],
  ])("%s → %s (the text after the last '-', as the original)", (namespace, cluster) => {
    expect(clusterOf(namespace)).toBe(cluster);
  });
});

describe("entityFromName", () => {
  it.each([
    ["orders", { kind: "queue", queue: "orders" }],
    [
      "transactions/subscriptions/audit",
      { kind: "subscription", topic: "transactions", subscription: "audit" },
    ],
    [
      "transactions/Subscriptions/audit",
      { kind: "subscription", topic: "transactions", subscription: "audit" },
    ],
    ["a/b", undefined],
    ["a/subscriptions/", undefined],
    ["a/subscriptions/b/rules/c", undefined],
    ["", undefined],
    ["-NamespaceOnlyMetric-", undefined],
  ])("%j", (name, entity) => {
    expect(entityFromName(name)).toEqual(entity);
  });
});
