ALTER TABLE order_order ADD COLUMN delivery_note text;
