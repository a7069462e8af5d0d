ALTER TABLE order_order DROP COLUMN gift_wrap;
