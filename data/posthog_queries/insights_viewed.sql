-- insights_viewed: reports the customer's team opened. PostHog's own app sends
-- "insight viewed"; put your product's event name here.
-- Customers are PostHog groups at index 0 ($group_0, e.g. organization); see README.md.
SELECT
    $group_0 AS customer_id,
    toDate(timestamp) AS date,
    'insights_viewed' AS metric,
    count() AS value
FROM events
WHERE event = 'insight viewed'
  AND toDate(timestamp) >= toDate({since})
  AND toDate(timestamp) <= toDate({until})
  AND $group_0 != ''
GROUP BY customer_id, date
