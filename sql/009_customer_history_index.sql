-- A customer's last interactions (the screen-pop's history) without scanning the table.
CREATE INDEX interactions_customer ON interactions (customer_id, started_at DESC);
