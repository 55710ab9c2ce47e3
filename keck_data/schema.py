"""The warehouse schema as an ordered list of migrations (DESIGN.md data model)."""

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
        CREATE TABLE spatial_level (
            key VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, parent_level VARCHAR, ordering INTEGER NOT NULL);
        CREATE TABLE area (
            level VARCHAR NOT NULL, key VARCHAR NOT NULL, name VARCHAR NOT NULL,
            parent_key VARCHAR, population DOUBLE,
            geom GEOMETRY, geom_display GEOMETRY,
            PRIMARY KEY (level, key));
        CREATE TABLE topic (key VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, ordering INTEGER NOT NULL);
        CREATE TABLE indicator (
            key VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, topic VARCHAR NOT NULL, unit VARCHAR NOT NULL,
            definition VARCHAR NOT NULL, calculation VARCHAR NOT NULL, source VARCHAR NOT NULL,
            reference_date VARCHAR NOT NULL,
            interpretation VARCHAR, data_owner VARCHAR, update_cycle VARCHAR,
            kind VARCHAR NOT NULL CHECK (kind IN ('count', 'rate', 'mean', 'index')),
            numerator VARCHAR, denominator VARCHAR, scale DOUBLE NOT NULL DEFAULT 100,
            aggregation VARCHAR NOT NULL CHECK (aggregation IN ('sum', 'ratio', 'weighted_mean', 'none')),
            weight VARCHAR,
            polarity VARCHAR NOT NULL CHECK (polarity IN ('high_bad', 'high_good', 'neutral')),
            decimals INTEGER NOT NULL DEFAULT 1,
            released BOOLEAN NOT NULL DEFAULT FALSE,
            ordering INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE indicator_value (
            indicator VARCHAR NOT NULL, level VARCHAR NOT NULL, area_key VARCHAR NOT NULL, year INTEGER NOT NULL,
            value DOUBLE,
            status VARCHAR NOT NULL CHECK (status IN ('ok', 'suppressed', 'missing')),
            origin VARCHAR NOT NULL DEFAULT 'source' CHECK (origin IN ('source', 'aggregated')),
            note VARCHAR,
            PRIMARY KEY (indicator, level, area_key, year));
        CREATE TABLE poi_category (key VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, color VARCHAR NOT NULL);
        CREATE SEQUENCE poi_id_seq;
        CREATE TABLE poi (
            id BIGINT PRIMARY KEY DEFAULT nextval('poi_id_seq'), name VARCHAR NOT NULL,
            category VARCHAR NOT NULL, address VARCHAR, geom GEOMETRY NOT NULL,
            opening_hours VARCHAR, target_group VARCHAR, capacity INTEGER, website VARCHAR, contact VARCHAR,
            description VARCHAR, public BOOLEAN NOT NULL DEFAULT TRUE, version INTEGER NOT NULL DEFAULT 1,
            updated_by VARCHAR, updated_at TIMESTAMP);
        CREATE SEQUENCE bookmark_id_seq;
        CREATE TABLE bookmark (
            id BIGINT PRIMARY KEY DEFAULT nextval('bookmark_id_seq'), title VARCHAR NOT NULL,
            interpretation VARCHAR, view_state JSON NOT NULL, public BOOLEAN NOT NULL DEFAULT FALSE,
            owner VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL);
        CREATE SEQUENCE audit_id_seq;
        CREATE TABLE audit_log (
            id BIGINT PRIMARY KEY DEFAULT nextval('audit_id_seq'), changed_at TIMESTAMP NOT NULL, actor VARCHAR NOT NULL,
            action VARCHAR NOT NULL, entity VARCHAR NOT NULL, entity_key VARCHAR,
            before JSON, after JSON);
        CREATE TABLE user_role (
            username VARCHAR PRIMARY KEY, role VARCHAR NOT NULL
                CHECK (role IN ('kommunen_admin', 'keck_admin', 'keck_nutzer')),
            topics VARCHAR[], active BOOLEAN NOT NULL DEFAULT TRUE);
        """,
    ),
]

MIGRATIONS.append((
    2,
    """
    INSERT OR IGNORE INTO topic VALUES ('demografie', 'Demografie', 0), ('soziale_lage', 'Soziale Lage', 1),
        ('hilfen', 'Kinderschutz und Hilfen zur Erziehung', 2), ('bildung', 'Bildung', 3),
        ('gesundheit', 'Gesundheit', 4), ('wohnen', 'Wohnen', 5),
        ('kinderbetreuung', 'Kinderbetreuung und Infrastruktur', 6), ('beteiligung', 'Beteiligung', 7);
    INSERT OR IGNORE INTO poi_category VALUES ('kita', 'Kita', '#1b9e77'), ('spielplatz', 'Spielplatz', '#66a61e'),
        ('jugendzentrum', 'Jugendzentrum', '#d95f02'), ('familienzentrum', 'Familienzentrum', '#7570b3'),
        ('schule', 'Schule', '#e6ab02'), ('beratungsstelle', 'Beratungsstelle', '#e7298a');
    """,
))

MIGRATIONS.append((
    3,
    """
    CREATE TABLE login_attempt (username VARCHAR PRIMARY KEY, failures INTEGER NOT NULL, last_failure TIMESTAMP);
    CREATE TABLE session_epoch (username VARCHAR PRIMARY KEY, not_before TIMESTAMP NOT NULL);
    """,
))

MIGRATIONS.append((
    4,
    """
    -- declared relations for disclosure control: "a + b" = the indicator is the sum of these counts;
    -- share = the numerator counts a part of the denominator (the rest is a count that must stay protected)
    ALTER TABLE indicator ADD COLUMN parts VARCHAR;
    ALTER TABLE indicator ADD COLUMN share BOOLEAN DEFAULT FALSE;
    """,
))

MIGRATIONS.append((
    5,
    """
    -- areas without residents on purpose (harbour, forest, islands): they never make a parent "incomplete"
    CREATE TABLE uninhabited_area (level VARCHAR NOT NULL, key VARCHAR NOT NULL, PRIMARY KEY (level, key));
    """,
))

MIGRATIONS.append((
    6,
    """
    -- Sozialraumkonferenz: sessions, the presenter's live view (one small row), views shown, notes per area
    CREATE SEQUENCE conf_session_seq;
    CREATE TABLE conf_session (
        id BIGINT PRIMARY KEY DEFAULT nextval('conf_session_seq'), title VARCHAR NOT NULL, held_on DATE NOT NULL,
        level VARCHAR NOT NULL, agenda VARCHAR[] NOT NULL, moderator VARCHAR NOT NULL, participants VARCHAR,
        closed BOOLEAN NOT NULL DEFAULT FALSE, created_at TIMESTAMP NOT NULL);
    CREATE TABLE conf_live (session_id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, view JSON NOT NULL);
    CREATE TABLE conf_shown (session_id BIGINT NOT NULL, seq BIGINT NOT NULL, view JSON NOT NULL,
        shown_at TIMESTAMP NOT NULL, PRIMARY KEY (session_id, seq));
    CREATE SEQUENCE conf_note_seq;
    CREATE TABLE conf_note (
        id BIGINT PRIMARY KEY DEFAULT nextval('conf_note_seq'), session_id BIGINT NOT NULL,
        area_key VARCHAR NOT NULL,
        kind VARCHAR NOT NULL CHECK (kind IN ('observation', 'measure', 'question')), text VARCHAR NOT NULL,
        responsible VARCHAR, due DATE,
        status VARCHAR NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'progress', 'done')),
        author VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP, version INTEGER NOT NULL DEFAULT 1);
    """,
))

MIGRATIONS.append((
    7,
    """
    -- area groups: a delivered row for several areas of one level ("A und B"); its value belongs to the group
    -- (stored in indicator_value under the group's key), never split onto the member areas
    CREATE TABLE area_group (level VARCHAR NOT NULL, key VARCHAR NOT NULL, name VARCHAR NOT NULL,
        PRIMARY KEY (level, key));
    CREATE TABLE area_group_member (level VARCHAR NOT NULL, group_key VARCHAR NOT NULL, area_key VARCHAR NOT NULL,
        PRIMARY KEY (level, group_key, area_key));
    """,
))

MIGRATIONS.append((
    8,
    """
    -- public sessions: the moderator's views are mirrored read-only to the public instance (never the notes)
    ALTER TABLE conf_session ADD COLUMN public BOOLEAN DEFAULT FALSE;
    """,
))

MIGRATIONS.append((
    9,
    """
    -- Geheimhaltung per indicator (privacy: 'threshold' = the town's threshold applies, 'none' = no personal data
    -- or anonymised by the supplier) and the kind 'share' (Anteil (geliefert): a delivered percentage without its
    -- counts). DuckDB cannot alter a CHECK constraint, so the table is rebuilt; BY NAME fails loudly (and the
    -- migration rolls back) if an earlier migration added a column this definition does not know.
    CREATE TABLE indicator_v9 (
        key VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, topic VARCHAR NOT NULL, unit VARCHAR NOT NULL,
        definition VARCHAR NOT NULL, calculation VARCHAR NOT NULL, source VARCHAR NOT NULL,
        reference_date VARCHAR NOT NULL,
        interpretation VARCHAR, data_owner VARCHAR, update_cycle VARCHAR,
        kind VARCHAR NOT NULL CHECK (kind IN ('count', 'rate', 'mean', 'index', 'share')),
        numerator VARCHAR, denominator VARCHAR, scale DOUBLE NOT NULL DEFAULT 100,
        aggregation VARCHAR NOT NULL CHECK (aggregation IN ('sum', 'ratio', 'weighted_mean', 'none')),
        weight VARCHAR,
        polarity VARCHAR NOT NULL CHECK (polarity IN ('high_bad', 'high_good', 'neutral')),
        decimals INTEGER NOT NULL DEFAULT 1,
        released BOOLEAN NOT NULL DEFAULT FALSE,
        ordering INTEGER NOT NULL DEFAULT 0,
        parts VARCHAR, share BOOLEAN DEFAULT FALSE,
        privacy VARCHAR NOT NULL DEFAULT 'threshold' CHECK (privacy IN ('threshold', 'none')));
    INSERT INTO indicator_v9 BY NAME SELECT * FROM indicator;
    DROP TABLE indicator;
    ALTER TABLE indicator_v9 RENAME TO indicator;
    """,
))

MIGRATIONS.append((
    11,
    """
    -- derived indicators (keck_data.analysis.derived): values with origin 'derived', their derivation beside the
    -- indicator row. DuckDB cannot change a CHECK constraint, so indicator_value is rebuilt (BY NAME fails loudly
    -- should an earlier migration have added a column that this list lacks).
    CREATE TABLE indicator_value_v11 (
        indicator VARCHAR NOT NULL, level VARCHAR NOT NULL, area_key VARCHAR NOT NULL, year INTEGER NOT NULL,
        value DOUBLE,
        status VARCHAR NOT NULL CHECK (status IN ('ok', 'suppressed', 'missing')),
        origin VARCHAR NOT NULL DEFAULT 'source' CHECK (origin IN ('source', 'aggregated', 'derived')),
        note VARCHAR,
        PRIMARY KEY (indicator, level, area_key, year));
    INSERT INTO indicator_value_v11 BY NAME SELECT * FROM indicator_value;
    DROP TABLE indicator_value;
    ALTER TABLE indicator_value_v11 RENAME TO indicator_value;
    CREATE TABLE derivation (
        indicator VARCHAR PRIMARY KEY, method VARCHAR NOT NULL, parameters JSON NOT NULL,
        computed_version BIGINT NOT NULL, computed_at TIMESTAMP NOT NULL, computed_by VARCHAR NOT NULL,
        stale BOOLEAN NOT NULL DEFAULT FALSE, stale_reason VARCHAR, stale_since TIMESTAMP);
    CREATE TABLE derivation_input (
        indicator VARCHAR NOT NULL, input VARCHAR NOT NULL, weight DOUBLE NOT NULL, ordering INTEGER NOT NULL,
        PRIMARY KEY (indicator, input));
    """,
))

MIGRATIONS.append((
    12,
    """
    -- Wirkungsziele: a target per indicator and area (or the whole town), with its own Freigabe and the last
    -- evaluated Ampel (so a re-evaluation after new data can report what changed); every version kept
    CREATE SEQUENCE target_id_seq;
    CREATE TABLE target (
        id BIGINT PRIMARY KEY DEFAULT nextval('target_id_seq'), title VARCHAR NOT NULL,
        indicator VARCHAR NOT NULL, level VARCHAR NOT NULL, area_key VARCHAR NOT NULL,
        base_year INTEGER NOT NULL, target_year INTEGER NOT NULL, target_value DOUBLE NOT NULL,
        direction VARCHAR NOT NULL CHECK (direction IN ('senken', 'erhöhen', 'halten')),
        tolerance DOUBLE NOT NULL DEFAULT 0 CHECK (tolerance >= 0),
        criterion VARCHAR, responsible VARCHAR,
        status VARCHAR NOT NULL DEFAULT 'entwurf'
            CHECK (status IN ('entwurf', 'beschlossen', 'erreicht', 'aufgegeben')),
        released BOOLEAN NOT NULL DEFAULT FALSE, ampel VARCHAR, evaluation JSON,
        version INTEGER NOT NULL DEFAULT 1, updated_by VARCHAR, updated_at TIMESTAMP,
        CHECK (target_year > base_year));
    CREATE TABLE target_history (target_id BIGINT NOT NULL, version INTEGER NOT NULL, changed_at TIMESTAMP NOT NULL,
        actor VARCHAR NOT NULL, data JSON NOT NULL, PRIMARY KEY (target_id, version));
    -- Maßnahmen of conference sessions (conf_note rows of kind 'measure') that serve a target
    CREATE TABLE target_measure (target_id BIGINT NOT NULL, note_id BIGINT NOT NULL, PRIMARY KEY (target_id, note_id));
    -- Ampel without targets: a threshold rule per indicator ("sd:1" or "cut:10;20"), clearly a rule, not a goal
    ALTER TABLE indicator ADD COLUMN ampel_rule VARCHAR;
    """,
))

MIGRATIONS.append((
    13,
    """
    -- Versorgungsanalyse: saved scenarios "geplante Einrichtung" (internal only, never in the public snapshot)
    CREATE SEQUENCE supply_scenario_seq;
    CREATE TABLE supply_scenario (
        id BIGINT PRIMARY KEY DEFAULT nextval('supply_scenario_seq'), title VARCHAR NOT NULL,
        question JSON NOT NULL, added JSON NOT NULL, closed JSON NOT NULL, result JSON NOT NULL,
        owner VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL);
    """,
))

LATEST_VERSION = MIGRATIONS[-1][0]
