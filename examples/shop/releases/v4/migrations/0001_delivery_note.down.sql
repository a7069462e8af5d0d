ALTER TABLE order_order DROP COLUMN delivery_note;
