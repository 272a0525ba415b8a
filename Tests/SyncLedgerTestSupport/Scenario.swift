import SyncLedgerPostgres
/// A standard setup for integration tests: people, organisations and
/// accounts; sources hr (authoritative), payroll and crm; policies of each kind.
package enum Scenario {
    package static let standard = """
        CREATE SCHEMA core;
        CREATE TABLE core.organisation (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text, is_active boolean NOT NULL DEFAULT true);
        CREATE TABLE core.person (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          given_name text, family_name text, email text, birth_date date, marital_status text,
          salary numeric(10,2) CHECK (salary >= 0), employer_id uuid REFERENCES core.organisation,
          full_name text GENERATED ALWAYS AS (given_name || ' ' || family_name) STORED,
          is_active boolean NOT NULL DEFAULT true);
        INSERT INTO integration.source_system (source_system_key, display_name) VALUES
          ('hr', 'HR'), ('payroll', 'Payroll'), ('crm', 'CRM');
        INSERT INTO integration.source_system (source_system_key, display_name, is_active) VALUES ('legacy', 'Legacy', false);
        INSERT INTO integration.target_table (target_table, active_column) VALUES
          ('core.person', 'is_active'), ('core.organisation', 'is_active');
        INSERT INTO integration.app_user (user_name, display_name, is_steward) VALUES
          ('alice', 'Alice Steward', true), ('bob', 'Bob Steward', true);
        INSERT INTO integration.app_user (user_name, display_name, is_steward) VALUES ('carol', 'Carol Clerk', false);
        INSERT INTO integration.app_user (user_name, display_name, is_steward, is_active) VALUES ('dave', 'Dave Gone', true, false);
        INSERT INTO integration.commit_policy (target_table, field_name, commit_mode, auto_certify) VALUES
          ('core.person', NULL, 'OnIngest', true),
          ('core.organisation', NULL, 'OnIngest', true),
          ('core.organisation', 'name', 'OnIngest', true);
        INSERT INTO integration.commit_policy
          (target_table, field_name, commit_mode, authoritative_sources, auto_certify, stale_after_days, code_list, min_confidence) VALUES
          ('core.person', 'given_name',     'OnIngest',  '{hr,payroll}', true,  30,   NULL, NULL),
          ('core.person', 'family_name',    'OnIngest',  '{hr,payroll}', true,  NULL, NULL, NULL),
          ('core.person', 'email',          'OnIngest',  '{}',           false, NULL, NULL, NULL),
          ('core.person', 'birth_date',     'OnCertify', '{hr}',         false, NULL, NULL, NULL),
          ('core.person', 'marital_status', 'OnIngest',  '{hr}',         true,  NULL, 'marital_status', 0.8),
          ('core.person', 'salary',         'OnIngest',  '{payroll}',    true,  NULL, NULL, NULL),
          ('core.person', 'employer_id',    'OnIngest',  '{hr}',         true,  NULL, NULL, NULL);
        INSERT INTO integration.value_map (source_system_key, code_list, source_code, canonical_code_value, confidence) VALUES
          ('hr', 'marital_status', 'M', 'married', 1),
          ('hr', 'marital_status', 'S', 'single', 1),
          ('hr', 'marital_status', 'P', 'married', 0.6),
          ('payroll', 'marital_status', '1', 'married', 1),
          ('payroll', 'marital_status', '2', 'single', 1);
        INSERT INTO integration.subscription (source_system_key, target_table, field_names) VALUES
          ('payroll', 'core.person', '{given_name,family_name,marital_status,birth_date}'),
          ('crm', 'core.person', NULL);
        """
}
