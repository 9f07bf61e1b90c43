-- The same databases the native stack creates: dev data, test data (never shared with dev), registry storage.
CREATE DATABASE orderflow_test;
CREATE DATABASE apicurio;
