-- identify_events: $identify and $set calls.
-- Customers are PostHog groups at index 0 ($group_0, e.g. organization); see README.md.
SELECT
    $group_0 AS customer_id,
    toDate(timestamp) AS date,
    'identify_events' AS metric,
    count() AS value
FROM events
WHERE event IN ('$identify', '$set')
  AND toDate(timestamp) >= toDate({since})
  AND toDate(timestamp) <= toDate({until})
  AND $group_0 != ''
GROUP BY customer_id, date
