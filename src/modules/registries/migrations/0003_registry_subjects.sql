-- The people each record names through a reference into the population
-- register (a plot's owner, a licence's holder): "my records" finds a
-- citizen's plots and licences here, and the exchange answers queries by
-- such a field without reading the whole register.
CREATE TABLE registry_subjects (
  registry TEXT NOT NULL REFERENCES registries (code),
  record_key TEXT NOT NULL,
  field TEXT NOT NULL,
  subject TEXT NOT NULL,
  PRIMARY KEY (registry, record_key, field)
);
CREATE INDEX registry_subjects_subject ON registry_subjects (subject, registry, field);
