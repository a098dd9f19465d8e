-- sessions: distinct session ids seen that day.
-- Customers are PostHog groups at index 0 ($group_0, e.g. organization); see README.md.
SELECT
    $group_0 AS customer_id,
    toDate(timestamp) AS date,
    'sessions' AS metric,
    uniq($session_id) AS value
FROM events
WHERE $session_id != ''
  AND toDate(timestamp) >= toDate({since})
  AND toDate(timestamp) <= toDate({until})
  AND $group_0 != ''
GROUP BY customer_id, date
