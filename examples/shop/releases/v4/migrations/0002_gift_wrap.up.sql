-- The first statement succeeds, the second fails: the whole migration must roll back.
ALTER TABLE order_order ADD COLUMN gift_wrap boolean NOT NULL DEFAULT false;
ALTER TABLE order_gift ADD COLUMN message text;
