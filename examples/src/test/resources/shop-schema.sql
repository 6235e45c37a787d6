CREATE TABLE product (sku text PRIMARY KEY, name text NOT NULL, cents int NOT NULL CHECK (cents >= 0));
INSERT INTO product VALUES ('A-1', 'anchor', 4999), ('R-7', 'rope', 1250);
