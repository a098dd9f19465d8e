-- identified_events: events processed with a person profile. SDKs mark the
-- anonymous ones with $process_person_profile = false; events without the
-- property (older or server-side SDKs) are processed.
-- Customers are PostHog groups at index 0 ($group_0, e.g. organization); see README.md.
SELECT
    $group_0 AS customer_id,
    toDate(timestamp) AS date,
    'identified_events' AS metric,
    countIf(ifNull(toString(properties.$process_person_profile), 'true') != 'false') AS value
FROM events
WHERE toDate(timestamp) >= toDate({since})
  AND toDate(timestamp) <= toDate({until})
  AND $group_0 != ''
GROUP BY customer_id, date
