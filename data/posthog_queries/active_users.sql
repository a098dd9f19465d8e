-- active_users: the customer's people who did anything that day.
-- Customers are PostHog groups at index 0 ($group_0, e.g. organization); see README.md.
SELECT
    $group_0 AS customer_id,
    toDate(timestamp) AS date,
    'active_users' AS metric,
    uniq(person_id) AS value
FROM events
WHERE toDate(timestamp) >= toDate({since})
  AND toDate(timestamp) <= toDate({until})
  AND $group_0 != ''
GROUP BY customer_id, date
