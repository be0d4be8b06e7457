"""The clinic's record: every table, and the triggers that make the audit table append-only.

Revision ID: 0001
Revises: (none)

The triggers refuse UPDATE and DELETE on `audit_record` on both backends (SQLite: BEFORE
triggers that RAISE(ABORT); PostgreSQL: a plpgsql function raising an exception), so the
database itself keeps the trail append-only (21 CFR 11.10(e), docs/store.md). A BEFORE INSERT
trigger refuses a record that does not follow the last one (its sequence the last plus one,
its prev_hash the last record's hash, or 64 zeros for the first): on SQLite an INSERT OR
REPLACE would otherwise delete and rewrite a record without firing the DELETE trigger.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: A primary key: INTEGER on SQLite (autoincrement), BIGINT on PostgreSQL.
KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: What the triggers say when they refuse.
REFUSAL = "the audit trail is append-only"

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER audit_record_no_{verb.lower()} BEFORE {verb} ON audit_record "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    for verb in ("UPDATE", "DELETE")
]
#: The hash a first record links to (`idds.pump.log.GENESIS`).
GENESIS = "0" * 64
#: SQLite: a new record must follow the last; its hash must be new too (a REPLACE on the
#: unique hash would delete the older record).
SQLITE_APPEND_TRIGGER = (
    "CREATE TRIGGER audit_record_append_only BEFORE INSERT ON audit_record WHEN "
    "NEW.sequence IS NOT (SELECT COALESCE(MAX(sequence), 0) + 1 FROM audit_record) "
    "OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM audit_record ORDER BY sequence DESC "
    f"LIMIT 1), '{GENESIS}') "
    "OR EXISTS (SELECT 1 FROM audit_record WHERE hash = NEW.hash) "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: a new record must follow the last'); END"
)
POSTGRES_APPEND_FUNCTION = (
    "CREATE FUNCTION audit_record_follow() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "DECLARE last_sequence bigint; last_hash varchar(64); "
    "BEGIN "
    "SELECT sequence, hash INTO last_sequence, last_hash FROM audit_record "
    "ORDER BY sequence DESC LIMIT 1; "
    "IF NEW.sequence IS DISTINCT FROM COALESCE(last_sequence, 0) + 1 "
    f"OR NEW.prev_hash IS DISTINCT FROM COALESCE(last_hash, '{GENESIS}') THEN "
    f"RAISE EXCEPTION '{REFUSAL}: record % does not follow the last', NEW.sequence; "
    "END IF; RETURN NEW; END $$"
)
POSTGRES_FUNCTION = (
    "CREATE FUNCTION audit_record_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP; END $$"
)
POSTGRES_TRIGGERS = [
    f"CREATE TRIGGER audit_record_no_{verb.lower()} BEFORE {verb} ON audit_record "
    "FOR EACH ROW EXECUTE FUNCTION audit_record_refuse()"
    for verb in ("UPDATE", "DELETE")
] + [
    "CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_record "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_record_refuse()",
    "CREATE TRIGGER audit_record_append_only BEFORE INSERT ON audit_record "
    "FOR EACH ROW EXECUTE FUNCTION audit_record_follow()",
]


def _create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_APPEND_FUNCTION)
        for statement in POSTGRES_TRIGGERS:
            op.execute(statement)
    else:
        for statement in [*SQLITE_TRIGGERS, SQLITE_APPEND_TRIGGER]:
            op.execute(statement)


def _drop_triggers() -> None:
    names = ["audit_record_no_update", "audit_record_no_delete", "audit_record_append_only"]
    if op.get_bind().dialect.name == "postgresql":
        for name in [*names, "audit_record_no_truncate"]:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON audit_record")
        op.execute("DROP FUNCTION IF EXISTS audit_record_follow()")
        op.execute("DROP FUNCTION IF EXISTS audit_record_refuse()")
    else:
        for name in names:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    op.create_table(
        "audit_record",
        sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("entity_type", sa.String(length=60), nullable=False),
        sa.Column("entity_id", sa.String(length=100), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_audit_record")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_record_hash")),
    )
    op.create_table(
        "library_version",
        sa.Column("id", KEY, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("signed_by", sa.String(length=200), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("installed_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_version")),
        sa.UniqueConstraint("content_sha256", name=op.f("uq_library_version_content_sha256")),
    )
    op.create_table(
        "patient",
        sa.Column("id", KEY, nullable=False),
        sa.Column("identifier", sa.String(length=64), nullable=False),
        sa.Column("research_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
        sa.UniqueConstraint("identifier", name=op.f("uq_patient_identifier")),
        sa.UniqueConstraint("research_code", name=op.f("uq_patient_research_code")),
    )
    op.create_table(
        "candidacy",
        sa.Column("id", KEY, nullable=False),
        sa.Column("patient_id", KEY, nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("criteria_name", sa.String(length=200), nullable=False),
        sa.Column("criteria_version", sa.String(length=64), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assessed_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_candidacy_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidacy")),
    )
    op.create_table(
        "diary_entry",
        sa.Column("id", KEY, nullable=False),
        sa.Column("patient_id", KEY, nullable=False),
        sa.Column("felt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pain", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint("pain >= 0 AND pain <= 10", name=op.f("ck_diary_entry_pain_0_to_10")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_diary_entry_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diary_entry")),
    )
    op.create_table(
        "implant",
        sa.Column("id", KEY, nullable=False),
        sa.Column("patient_id", KEY, nullable=False),
        sa.Column("pump_serial", sa.String(length=64), nullable=False),
        sa.Column("pump_model", sa.String(length=100), nullable=False),
        sa.Column("catheter_model", sa.String(length=100), nullable=False),
        sa.Column("catheter_tip", sa.String(length=40), nullable=False),
        sa.Column("catheter_volume_nl", sa.BigInteger(), nullable=True),
        sa.Column("implanted_on", sa.Date(), nullable=False),
        sa.Column("explanted_on", sa.Date(), nullable=True),
        sa.Column("pump_public_key", sa.LargeBinary(), nullable=True),
        sa.Column("programmer_public_key", sa.LargeBinary(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_implant_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_implant")),
        sa.UniqueConstraint("pump_serial", name=op.f("uq_implant_pump_serial")),
    )
    op.create_table(
        "screening",
        sa.Column("id", KEY, nullable=False),
        sa.Column("patient_id", KEY, nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("drug", sa.String(length=64), nullable=False),
        sa.Column("dose_ng", sa.BigInteger(), nullable=False),
        sa.Column("baseline_pain", sa.Integer(), nullable=False),
        sa.Column("lowest_pain", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=40), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("screened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("screened_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_screening_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening")),
    )
    op.create_table(
        "side_effect_assessment",
        sa.Column("id", KEY, nullable=False),
        sa.Column("patient_id", KEY, nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("grades", sa.Text(), nullable=False),
        sa.Column("respiratory_rate_per_min", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("assessed_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_side_effect_assessment_patient_id_patient"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_side_effect_assessment")),
    )
    op.create_table(
        "user_account",
        sa.Column("id", KEY, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("patient_id", KEY, nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_user_account_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("username", name=op.f("uq_user_account_username")),
    )
    op.create_table(
        "alarm",
        sa.Column("id", KEY, nullable=False),
        sa.Column("patient_id", KEY, nullable=False),
        sa.Column("implant_id", KEY, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seen_by", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["implant_id"], ["implant.id"], name=op.f("fk_alarm_implant_id_implant")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_alarm_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm")),
    )
    op.create_table(
        "login_session",
        sa.Column("id", KEY, nullable=False),
        sa.Column("user_id", KEY, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("authenticated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_login_session_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_session_token_hash")),
    )
    op.create_table(
        "pump_log_record",
        sa.Column("id", KEY, nullable=False),
        sa.Column("implant_id", KEY, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("time_num", sa.BigInteger(), nullable=False),
        sa.Column("time_den", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["implant_id"], ["implant.id"], name=op.f("fk_pump_log_record_implant_id_implant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pump_log_record")),
        sa.UniqueConstraint("implant_id", "seq", name="uq_pump_log_record_seq"),
    )
    op.create_table(
        "refill",
        sa.Column("id", KEY, nullable=False),
        sa.Column("patient_id", KEY, nullable=False),
        sa.Column("implant_id", KEY, nullable=False),
        sa.Column("drug", sa.String(length=64), nullable=False),
        sa.Column("concentration_num", sa.BigInteger(), nullable=False),
        sa.Column("concentration_den", sa.BigInteger(), nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("expected_nl", sa.BigInteger(), nullable=False),
        sa.Column("withdrawn_nl", sa.BigInteger(), nullable=False),
        sa.Column("filled_nl", sa.BigInteger(), nullable=False),
        sa.Column("mismatch", sa.Boolean(), nullable=False),
        sa.Column("next_refill_on", sa.Date(), nullable=True),
        sa.Column("refilled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["implant_id"], ["implant.id"], name=op.f("fk_refill_implant_id_implant")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_refill_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refill")),
    )
    op.create_table(
        "therapy_program",
        sa.Column("id", KEY, nullable=False),
        sa.Column("patient_id", KEY, nullable=False),
        sa.Column("implant_id", KEY, nullable=False),
        sa.Column("previous_id", KEY, nullable=True),
        sa.Column("drug", sa.String(length=64), nullable=False),
        sa.Column("concentration_num", sa.BigInteger(), nullable=False),
        sa.Column("concentration_den", sa.BigInteger(), nullable=False),
        sa.Column("therapy", sa.Text(), nullable=False),
        sa.Column("daily_dose_num", sa.BigInteger(), nullable=True),
        sa.Column("daily_dose_den", sa.BigInteger(), nullable=True),
        sa.Column("library_version_id", KEY, nullable=False),
        sa.Column("checks", sa.Text(), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("programmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("programmed_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["implant_id"], ["implant.id"], name=op.f("fk_therapy_program_implant_id_implant")
        ),
        sa.ForeignKeyConstraint(
            ["library_version_id"],
            ["library_version.id"],
            name=op.f("fk_therapy_program_library_version_id_library_version"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_therapy_program_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"],
            ["therapy_program.id"],
            name=op.f("fk_therapy_program_previous_id_therapy_program"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_therapy_program")),
        sa.UniqueConstraint("previous_id", name=op.f("uq_therapy_program_previous_id")),
    )
    op.create_table(
        "recommendation",
        sa.Column("id", KEY, nullable=False),
        sa.Column("patient_id", KEY, nullable=False),
        sa.Column("controller", sa.String(length=64), nullable=False),
        sa.Column("recommended", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("program_id", KEY, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_recommendation_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["therapy_program.id"],
            name=op.f("fk_recommendation_program_id_therapy_program"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation")),
    )
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_table("recommendation")
    op.drop_table("therapy_program")
    op.drop_table("refill")
    op.drop_table("pump_log_record")
    op.drop_table("login_session")
    op.drop_table("alarm")
    op.drop_table("user_account")
    op.drop_table("side_effect_assessment")
    op.drop_table("screening")
    op.drop_table("implant")
    op.drop_table("diary_entry")
    op.drop_table("candidacy")
    op.drop_table("patient")
    op.drop_table("library_version")
    op.drop_table("audit_record")
