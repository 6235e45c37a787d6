CREATE TABLE ok_table (id int);
SELECT * FROM no_such_table;
