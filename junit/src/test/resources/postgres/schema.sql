CREATE TABLE fruit (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
INSERT INTO fruit (name) VALUES ('apple'), ('pear');
