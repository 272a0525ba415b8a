import Foundation
import Logging
import PostgresNIO

/// The scenario of `syncledger demo`: a small, realistic setup (an HR and a
/// payroll system, people and their accounts) and the jobs those systems
/// submit, written as the SQL an administrator and an upstream would run.
public enum DemoScenario {
    /// Target tables and configuration (administrator's SQL).
    public static let setup = """
        CREATE SCHEMA IF NOT EXISTS core;
        CREATE TABLE core.organisation (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          name text,
          is_active boolean NOT NULL DEFAULT true
        );
        CREATE TABLE core.person (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          given_name text,
          family_name text,
          email text,
          birth_date date,
          marital_status text,
          employer_id uuid REFERENCES core.organisation,
          is_active boolean NOT NULL DEFAULT true
        );
        CREATE TABLE core.account (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          person_id uuid REFERENCES core.person,
          account_number text,
          status text,
          balance numeric(12,2),
          opened_on date,
          is_active boolean NOT NULL DEFAULT true
        );

        INSERT INTO integration.source_system (source_system_key, display_name, login_role) VALUES
          ('hr', 'Human Resources', 'hr_loader'),
          ('payroll', 'Payroll', 'payroll_loader');

        INSERT INTO integration.target_table (target_table, active_column) VALUES
          ('core.organisation', 'is_active'), ('core.person', 'is_active'), ('core.account', 'is_active');

        INSERT INTO integration.app_user (user_name, display_name, email, is_steward) VALUES
          ('dana', 'Dana Steward', 'dana@example.gov', true);

        -- Records are created on ingest and certified by policy.
        INSERT INTO integration.commit_policy (target_table, field_name, commit_mode, auto_certify) VALUES
          ('core.organisation', NULL, 'OnIngest', true),
          ('core.person', NULL, 'OnIngest', true),
          ('core.account', NULL, 'OnIngest', true),
          ('core.organisation', 'name', 'OnIngest', true);
        -- Names: HR is authoritative; payroll may fill them when HR's value goes stale.
        INSERT INTO integration.commit_policy
          (target_table, field_name, commit_mode, authoritative_sources, auto_certify, stale_after_days, code_list, min_confidence) VALUES
          ('core.person', 'given_name',     'OnIngest',  '{hr,payroll}', true,  365, NULL, NULL),
          ('core.person', 'family_name',    'OnIngest',  '{hr,payroll}', true,  365, NULL, NULL),
          ('core.person', 'email',          'OnIngest',  '{payroll,hr}', false, NULL, NULL, NULL),
          ('core.person', 'birth_date',     'OnCertify', '{hr}',         false, NULL, NULL, NULL),
          ('core.person', 'marital_status', 'OnIngest',  '{hr}',         true,  NULL, 'marital_status', 0.8),
          ('core.person', 'employer_id',    'OnIngest',  '{hr}',         true,  NULL, NULL, NULL),
          ('core.account', 'person_id',     'OnIngest',  '{payroll}',    true,  NULL, NULL, NULL),
          ('core.account', 'account_number','OnIngest',  '{payroll}',    true,  NULL, NULL, NULL),
          ('core.account', 'status',        'OnIngest',  '{payroll}',    true,  NULL, 'account_status', NULL),
          ('core.account', 'balance',       'OnIngest',  '{payroll}',    false, NULL, NULL, NULL),
          ('core.account', 'opened_on',     'OnCertify', '{payroll}',    false, NULL, NULL, NULL);

        INSERT INTO integration.value_map (source_system_key, code_list, source_code, source_label, canonical_code_value, confidence) VALUES
          ('hr', 'marital_status', 'M', 'Married', 'married', 1),
          ('hr', 'marital_status', 'S', 'Single', 'single', 1),
          ('hr', 'marital_status', 'D', 'Divorced', 'divorced', 1),
          ('hr', 'marital_status', 'P', 'Partnered (legacy code)', 'married', 0.6),
          ('payroll', 'marital_status', '1', 'Married', 'married', 1),
          ('payroll', 'marital_status', '2', 'Single', 'single', 1),
          ('payroll', 'account_status', 'A', 'Active', 'open', 1),
          ('payroll', 'account_status', 'C', 'Closed', 'closed', 1);

        -- Payroll wants person changes back; HR wants everything.
        INSERT INTO integration.subscription (source_system_key, target_table, field_names) VALUES
          ('payroll', 'core.person', '{given_name,family_name,email,marital_status,birth_date}'),
          ('hr', 'core.person', NULL);
        """

    /// HR's job, as HR's loader would submit it: a header, then its items.
    public static let hrJob = """
        WITH job AS (
          INSERT INTO integration.sync_job (source_system_key, entity_type, job_key, priority)
          VALUES ('hr', 'core.person', 'hr-2026-11-24-001', 5)
          RETURNING job_id
        )
        INSERT INTO integration.sync_item (job_id, seq, external_key, target_table, operation, field_name, new_value, source_timestamp)
        SELECT job.job_id, v.seq, v.key, v.tbl, v.op, v.field, v.value, v.ts::timestamptz
          FROM job, (VALUES
            (1,  'E100', NULL, 'Set',  'given_name',     'Amara',            '2026-11-20T09:00:00Z'),
            (2,  'E100', NULL, 'Set',  'family_name',    'Okafor',           '2026-11-20T09:00:00Z'),
            (3,  'E100', NULL, 'Set',  'email',          'amara@hr.example', '2026-11-20T09:00:00Z'),
            (4,  'E100', NULL, 'Set',  'birth_date',     '1985-3-7',         '2026-11-20T09:00:00Z'),
            (5,  'E100', NULL, 'Set',  'marital_status', 'M',                '2026-11-20T09:00:00Z'),
            (6,  'E100', NULL, 'Link', 'employer_id',    'ORG-7',            '2026-11-20T09:00:00Z'),
            (7,  'ORG-7', 'core.organisation', 'Set', 'name', 'Ministry of Data', '2026-11-20T09:00:00Z'),
            (8,  'E101', NULL, 'Set',  'given_name',     'Luis',             '2026-11-20T09:05:00Z'),
            (9,  'E101', NULL, 'Set',  'family_name',    'Ortega',           '2026-11-20T09:05:00Z'),
            (10, 'E101', NULL, 'Set',  'marital_status', 'P',                '2026-11-20T09:05:00Z'),
            (11, 'E101', NULL, 'Set',  'emial',          'luis@hr.example',  '2026-11-20T09:05:00Z'),
            (12, 'E102', NULL, 'Set',  'given_name',     'Mei',              '2026-11-20T09:10:00Z'),
            (13, 'E102', NULL, 'Set',  'birth_date',     '1990-02-30',       '2026-11-20T09:10:00Z'),
            (14, 'E102', NULL, 'Set',  'marital_status', 'X',                '2026-11-20T09:10:00Z'),
            (15, 'E100', NULL, 'Set',  'given_name',     'Amara',            '2026-11-20T09:00:00Z')
          ) AS v(seq, key, tbl, op, field, value, ts);
        """

    /// Payroll's job: it knows HR's people under its own keys, so it passes the
    /// record as a `target_id` hint the first time; it also sends accounts.
    public static let payrollJob = """
        WITH job AS (
          INSERT INTO integration.sync_job (source_system_key, entity_type, job_key)
          VALUES ('payroll', 'core.person', 'payroll-run-2026-47')
          RETURNING job_id
        ), hint AS (
          SELECT external_key, target_id FROM integration.identifier WHERE source_system_key = 'hr'
        )
        INSERT INTO integration.sync_item (job_id, seq, external_key, target_table, operation, field_name, new_value, target_id)
        SELECT job.job_id, v.seq, v.key, v.tbl, v.op, v.field, v.value, (SELECT target_id FROM hint WHERE external_key = v.hr_key)
          FROM job, (VALUES
            (1, 'P-0001', NULL, 'Set',  'family_name',    'Okafor-Reyes',          'E100'),
            (2, 'P-0001', NULL, 'Set',  'email',          'a.okafor@payroll.example', NULL),
            (3, 'P-0001', NULL, 'Set',  'marital_status', '1',                     NULL),
            (4, 'A-5501', 'core.account', 'Set',  'account_number', 'GB29 NWBK 6016 1331 9268 19', NULL),
            (5, 'A-5501', 'core.account', 'Link', 'person_id',      'P-0001',      NULL),
            (6, 'A-5501', 'core.account', 'Set',  'status',         'A',           NULL),
            (7, 'A-5501', 'core.account', 'Set',  'balance',        '1520.5',      NULL),
            (8, 'A-5501', 'core.account', 'Set',  'opened_on',      '2019-06-01',  NULL),
            (9, 'A-5502', 'core.account', 'Set',  'balance',        'lots',        NULL),
            (10,'A-5503', 'core.account', 'Link', 'person_id',      'P-0002',      NULL),
            (11,'P-0002', NULL, 'Set',  'given_name',     'Sam',                   NULL)
          ) AS v(seq, key, tbl, op, field, value, hr_key);
        """
}
