import Foundation
public import GRDB
public import NewsCore

/// The archive's migrations, registered in order. A released migration is never edited: add a new one.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;

                    -- Raw bytes (pages, feed documents), keyed by the SHA-256 of the uncompressed bytes.
                    CREATE TABLE blob(
                        hash TEXT PRIMARY KEY NOT NULL,
                        size INTEGER NOT NULL,
                        encoding TEXT NOT NULL,
                        data BLOB NOT NULL
                    ) WITHOUT ROWID;

                    -- Synced, content-addressed records. Column names are the records' canonical field names.
                    CREATE TABLE node(id TEXT PRIMARY KEY NOT NULL, publicKey TEXT NOT NULL) WITHOUT ROWID;
                    CREATE TABLE article(id TEXT PRIMARY KEY NOT NULL, url TEXT NOT NULL) WITHOUT ROWID;
                    CREATE INDEX article_url ON article(url);
                    CREATE TABLE capture(
                        id TEXT PRIMARY KEY NOT NULL,
                        articleID TEXT,
                        url TEXT NOT NULL,
                        finalURL TEXT NOT NULL,
                        fetchedAt TEXT NOT NULL,
                        status INTEGER NOT NULL,
                        contentType TEXT,
                        etag TEXT,
                        lastModified TEXT,
                        blobHash TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        nodeID TEXT NOT NULL,
                        signature TEXT
                    ) WITHOUT ROWID;
                    CREATE INDEX capture_article ON capture(articleID);
                    CREATE INDEX capture_url ON capture(url, blobHash);
                    CREATE TABLE text(
                        id TEXT PRIMARY KEY NOT NULL,
                        title TEXT,
                        byline TEXT,
                        published TEXT,
                        language TEXT,
                        body TEXT NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE extraction(
                        id TEXT PRIMARY KEY NOT NULL,
                        captureID TEXT NOT NULL,
                        textID TEXT NOT NULL,
                        extractor TEXT NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX extraction_capture ON extraction(captureID);

                    -- Full-text index of texts (title and body), filled as texts are inserted.
                    CREATE VIRTUAL TABLE text_search USING fts5(title, body, textID UNINDEXED, tokenize = 'unicode61 remove_diacritics 2');

                    -- Stories: each text's MinHash fingerprint, its LSH buckets, and the story it belongs to.
                    -- Derived from the texts, the same on every node; never synced.
                    CREATE TABLE text_fingerprint(
                        textID TEXT PRIMARY KEY NOT NULL, shingles INTEGER NOT NULL, minhash BLOB NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE text_bucket(bucket INTEGER NOT NULL, textID TEXT NOT NULL, PRIMARY KEY(bucket, textID)) WITHOUT ROWID;
                    CREATE TABLE story_member(textID TEXT PRIMARY KEY NOT NULL, storyID TEXT NOT NULL) WITHOUT ROWID;
                    CREATE INDEX story_member_story ON story_member(storyID);

                    -- Everything inserted, in order: what peers read to get deltas.
                    CREATE TABLE change(
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind TEXT NOT NULL,
                        key TEXT NOT NULL,
                        UNIQUE(kind, key)
                    );

                    -- Local state, never synced.
                    CREATE TABLE feed(
                        id INTEGER PRIMARY KEY,
                        url TEXT NOT NULL UNIQUE,
                        location TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        active INTEGER NOT NULL DEFAULT 1,
                        title TEXT,
                        feedTitle TEXT,
                        category TEXT,
                        interval REAL,
                        proxy TEXT,
                        userAgent TEXT,
                        headers TEXT,
                        etag TEXT,
                        lastModified TEXT,
                        lastHash TEXT,
                        ttl INTEGER,
                        skipHours TEXT,
                        skipDays TEXT,
                        adaptiveInterval REAL,
                        warnings INTEGER NOT NULL DEFAULT 0,
                        lastPollAt REAL,
                        lastResult TEXT,
                        lastError TEXT,
                        errorCount INTEGER NOT NULL DEFAULT 0,
                        nextPollAt REAL
                    );
                    CREATE TABLE feed_move(
                        feedID INTEGER NOT NULL REFERENCES feed(id) ON DELETE CASCADE,
                        fromURL TEXT NOT NULL,
                        toURL TEXT NOT NULL,
                        status INTEGER NOT NULL,
                        at REAL NOT NULL
                    );
                    CREATE TABLE feed_entry(
                        feedID INTEGER NOT NULL REFERENCES feed(id) ON DELETE CASCADE,
                        articleID TEXT NOT NULL,
                        entryID TEXT NOT NULL,
                        version TEXT,
                        PRIMARY KEY(feedID, articleID)
                    ) WITHOUT ROWID;
                    CREATE INDEX feed_entry_article ON feed_entry(articleID);
                    CREATE TABLE peer(
                        name TEXT PRIMARY KEY NOT NULL,
                        url TEXT NOT NULL,
                        epoch TEXT,
                        cursor INTEGER NOT NULL DEFAULT 0,
                        lastSyncAt REAL,
                        lastResult TEXT,
                        lastError TEXT
                    ) WITHOUT ROWID;
                    """)
            try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('epoch', ?)", arguments: [UUID().uuidString.lowercased()])
            // Rank search results by bm25 with the title weighted five times the body.
            try db.execute(sql: "INSERT INTO text_search(text_search, rank) VALUES ('rank', 'bm25(5.0, 1.0)')")
        }
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    -- What extractors after newsd-extract/1 also take from a page.
                    ALTER TABLE text ADD COLUMN modified TEXT;
                    ALTER TABLE text ADD COLUMN canonicalURL TEXT;
                    ALTER TABLE text ADD COLUMN imageURL TEXT;
                    -- Each host's template: fingerprints of text blocks and on how many of its articles they appeared.
                    CREATE TABLE host_block(
                        host TEXT NOT NULL,
                        hash INTEGER NOT NULL,
                        pages INTEGER NOT NULL,
                        PRIMARY KEY(host, hash)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v3") { db in
            // Blobs and texts are large rows: in WITHOUT ROWID tables their payloads sat in the key B-tree, where
            // inserts at random hash positions rebalanced pages full of them. Rowid tables append them, and the hash
            // becomes a small unique index.
            try db.execute(
                sql: """
                    CREATE TABLE blob_v3(
                        hash TEXT PRIMARY KEY NOT NULL,
                        size INTEGER NOT NULL,
                        encoding TEXT NOT NULL,
                        data BLOB NOT NULL
                    );
                    INSERT INTO blob_v3(hash, size, encoding, data) SELECT hash, size, encoding, data FROM blob;
                    DROP TABLE blob;
                    ALTER TABLE blob_v3 RENAME TO blob;
                    CREATE TABLE text_v3(
                        id TEXT PRIMARY KEY NOT NULL,
                        title TEXT,
                        byline TEXT,
                        published TEXT,
                        language TEXT,
                        body TEXT NOT NULL,
                        modified TEXT,
                        canonicalURL TEXT,
                        imageURL TEXT
                    );
                    INSERT INTO text_v3 SELECT id, title, byline, published, language, body, modified, canonicalURL, imageURL
                        FROM text;
                    DROP TABLE text;
                    ALTER TABLE text_v3 RENAME TO text;
                    """)
        }
        migrator.registerMigration("v4") { db in
            // Peers added with `newsctl peers add`, beside those the config names; every peer has a node id.
            try db.execute(
                sql: """
                    ALTER TABLE peer ADD COLUMN nodeID TEXT;
                    ALTER TABLE peer ADD COLUMN added INTEGER NOT NULL DEFAULT 0;
                    """)
        }
        migrator.registerMigration("v5") { db in
            // The peer's last sequence number as last seen: how far behind this node is.
            try db.execute(sql: "ALTER TABLE peer ADD COLUMN head INTEGER")
        }
        migrator.registerMigration("v6") { db in
            try db.execute(
                sql: """
                    -- Signed changes to articles' tags, notes and visibility, synced like captures.
                    CREATE TABLE annotation(
                        id TEXT PRIMARY KEY NOT NULL,
                        articleID TEXT NOT NULL,
                        key TEXT NOT NULL,
                        value TEXT,
                        time INTEGER NOT NULL,
                        counter INTEGER NOT NULL,
                        nodeID TEXT NOT NULL,
                        signature TEXT
                    ) WITHOUT ROWID;
                    CREATE INDEX annotation_article ON annotation(articleID, key);
                    CREATE INDEX annotation_clock ON annotation(time, counter);
                    -- Each (article, key)'s winning change, last writer wins: derived from the changes, never synced.
                    CREATE TABLE annotation_state(
                        articleID TEXT NOT NULL,
                        key TEXT NOT NULL,
                        value TEXT,
                        time INTEGER NOT NULL,
                        counter INTEGER NOT NULL,
                        nodeID TEXT NOT NULL,
                        changeID TEXT NOT NULL,
                        PRIMARY KEY(articleID, key)
                    ) WITHOUT ROWID;
                    CREATE INDEX annotation_state_key ON annotation_state(key, articleID) WHERE value IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v7") { db in
            // The node a change was received from (pulled or pushed), so that it is not offered back to that node.
            try db.execute(sql: "ALTER TABLE change ADD COLUMN origin TEXT")
        }
        migrator.registerMigration("v8") { db in
            // The key pin of a peer added at run time with an https URL.
            try db.execute(sql: "ALTER TABLE peer ADD COLUMN pin TEXT")
        }
        migrator.registerMigration("v9") { db in
            // Captures by time: the status's growth over the last day, and date filters.
            try db.execute(sql: "CREATE INDEX capture_fetched ON capture(fetchedAt)")
        }
        migrator.registerMigration("v10") { db in
            // The peer's change at the cursor, to tell a peer whose log was restored from an older copy.
            try db.execute(sql: "ALTER TABLE peer ADD COLUMN cursorKey TEXT")
        }
        migrator.registerMigration("v11") { db in
            // Buckets name a fingerprint by a small integer instead of its text's 64-digit id: every text adds up to
            // 64 bucket rows at random places, and a bucket lookup read a thousand long ids. `row` is an INTEGER
            // PRIMARY KEY, which VACUUM keeps, unlike a plain rowid.
            try db.execute(
                sql: """
                    CREATE TABLE text_fingerprint_v11(
                        row INTEGER PRIMARY KEY, textID TEXT NOT NULL UNIQUE, shingles INTEGER NOT NULL, minhash BLOB NOT NULL
                    );
                    INSERT INTO text_fingerprint_v11(textID, shingles, minhash)
                        SELECT textID, shingles, minhash FROM text_fingerprint ORDER BY textID;
                    CREATE TABLE text_bucket_v11(
                        bucket INTEGER NOT NULL, fingerprint INTEGER NOT NULL, PRIMARY KEY(bucket, fingerprint)
                    ) WITHOUT ROWID;
                    INSERT INTO text_bucket_v11(bucket, fingerprint)
                        SELECT text_bucket.bucket, text_fingerprint_v11.row
                        FROM text_bucket JOIN text_fingerprint_v11 ON text_fingerprint_v11.textID = text_bucket.textID;
                    DROP TABLE text_bucket;
                    DROP TABLE text_fingerprint;
                    ALTER TABLE text_fingerprint_v11 RENAME TO text_fingerprint;
                    ALTER TABLE text_bucket_v11 RENAME TO text_bucket;
                    """)
        }
        migrator.registerMigration("v12") { db in
            // Pages are compressed fast as they arrive and again, smaller, when newsd is idle; these wait for that.
            try db.execute(
                sql: """
                    ALTER TABLE blob ADD COLUMN compacted INTEGER NOT NULL DEFAULT 1;
                    CREATE INDEX blob_uncompacted ON blob(compacted) WHERE compacted = 0;
                    """)
        }
        migrator.registerMigration("v13") { db in
            // A feed whose links may lead into this machine's network although the feed is not there.
            try db.execute(sql: "ALTER TABLE feed ADD COLUMN allowPrivate INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v14") { db in
            // Extractions are signed by the node that made them, and name the template blocks they left out; older
            // ones have neither (unverified).
            try db.execute(
                sql: """
                    ALTER TABLE extraction ADD COLUMN template TEXT;
                    ALTER TABLE extraction ADD COLUMN nodeID TEXT;
                    ALTER TABLE extraction ADD COLUMN signature TEXT;
                    """)
        }
        migrator.registerMigration("v15") { db in
            // The site a feed belongs to, as the feed or an imported OPML list (htmlUrl) says.
            try db.execute(sql: "ALTER TABLE feed ADD COLUMN siteURL TEXT")
        }
        migrator.registerMigration("v16") { db in
            // Search: the index reads titles and bodies from `text` itself instead of keeping a second copy of every
            // text (as large as the texts), through `seq`, an INTEGER PRIMARY KEY, which VACUUM keeps, unlike a plain
            // rowid; and a text's extractions are found by index, not by reading them all, once per hit.
            try db.execute(
                sql: """
                    CREATE TABLE text_v16(
                        seq INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        title TEXT,
                        byline TEXT,
                        published TEXT,
                        language TEXT,
                        body TEXT NOT NULL,
                        modified TEXT,
                        canonicalURL TEXT,
                        imageURL TEXT
                    );
                    INSERT INTO text_v16(seq, id, title, byline, published, language, body, modified, canonicalURL, imageURL)
                        SELECT rowid, id, title, byline, published, language, body, modified, canonicalURL, imageURL FROM text;
                    DROP TABLE text;
                    ALTER TABLE text_v16 RENAME TO text;
                    DROP TABLE text_search;
                    CREATE VIRTUAL TABLE text_search USING fts5(
                        title, body, content = 'text', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
                    );
                    INSERT INTO text_search(text_search) VALUES ('rebuild');
                    INSERT INTO text_search(text_search, rank) VALUES ('rank', 'bm25(5.0, 1.0)');
                    CREATE INDEX extraction_text ON extraction(textID);
                    """)
        }
        migrator.registerMigration("v17") { db in
            // The title a feed's entry gives its article: shown when the page has none.
            try db.execute(sql: "ALTER TABLE feed_entry ADD COLUMN title TEXT")
        }
        migrator.registerMigration("v18") { db in
            // The search index's words, with how many texts hold each: where spelling variants are found. It stores
            // nothing of its own.
            try db.execute(sql: "CREATE VIRTUAL TABLE text_vocabulary USING fts5vocab(text_search, 'row')")
        }
        migrator.registerMigration("v19") { db in
            // What the stored pages weigh, raw and as stored, kept as they change: summing them read every page's first
            // block (a status took 100 ms at 20,000 articles). Captures of the last day are counted from the index alone.
            try db.execute(
                sql: """
                    CREATE TABLE blob_tally(id INTEGER PRIMARY KEY CHECK (id = 1), bytes INTEGER NOT NULL, stored INTEGER NOT NULL);
                    INSERT INTO blob_tally SELECT 1, COALESCE(SUM(size), 0), COALESCE(SUM(length(data)), 0) FROM blob;
                    CREATE TRIGGER blob_tally_insert AFTER INSERT ON blob BEGIN
                        UPDATE blob_tally SET bytes = bytes + NEW.size, stored = stored + length(NEW.data);
                    END;
                    CREATE TRIGGER blob_tally_update AFTER UPDATE OF size, data ON blob BEGIN
                        UPDATE blob_tally SET bytes = bytes + NEW.size - OLD.size, stored = stored + length(NEW.data) - length(OLD.data);
                    END;
                    CREATE TRIGGER blob_tally_delete AFTER DELETE ON blob BEGIN
                        UPDATE blob_tally SET bytes = bytes - OLD.size, stored = stored - length(OLD.data);
                    END;
                    DROP INDEX capture_fetched;
                    CREATE INDEX capture_fetched ON capture(fetchedAt, size);
                    """)
        }
        migrator.registerMigration("v20") { db in
            // How many texts each story holds, kept as texts are filed and stories merge: listing stories largest
            // first grouped every story member (80 ms for a page at 100,000 articles).
            try db.execute(
                sql: """
                    CREATE TABLE story_size(storyID TEXT PRIMARY KEY NOT NULL, size INTEGER NOT NULL) WITHOUT ROWID;
                    INSERT INTO story_size SELECT storyID, COUNT(*) FROM story_member GROUP BY storyID;
                    CREATE INDEX story_size_order ON story_size(size DESC, storyID);
                    CREATE TRIGGER story_member_insert AFTER INSERT ON story_member BEGIN
                        INSERT INTO story_size(storyID, size) VALUES (NEW.storyID, 1)
                            ON CONFLICT(storyID) DO UPDATE SET size = size + 1;
                    END;
                    CREATE TRIGGER story_member_move AFTER UPDATE OF storyID ON story_member
                    WHEN OLD.storyID != NEW.storyID BEGIN
                        UPDATE story_size SET size = size - 1 WHERE storyID = OLD.storyID;
                        DELETE FROM story_size WHERE storyID = OLD.storyID AND size = 0;
                        INSERT INTO story_size(storyID, size) VALUES (NEW.storyID, 1)
                            ON CONFLICT(storyID) DO UPDATE SET size = size + 1;
                    END;
                    CREATE TRIGGER story_member_delete AFTER DELETE ON story_member BEGIN
                        UPDATE story_size SET size = size - 1 WHERE storyID = OLD.storyID;
                        DELETE FROM story_size WHERE storyID = OLD.storyID AND size = 0;
                    END;
                    """)
        }
        migrator.registerMigration("v21") { db in
            // Trusted timestamps (RFC 3161) over batches of captures, and which batch of which authority holds each
            // capture: what waits for a timestamp is a capture no batch of that authority holds.
            try db.execute(
                sql: """
                    CREATE TABLE timestamp(
                        id TEXT PRIMARY KEY NOT NULL, captures TEXT NOT NULL, root TEXT NOT NULL, tsa TEXT NOT NULL,
                        token TEXT NOT NULL, time TEXT NOT NULL, nodeID TEXT NOT NULL, signature TEXT);
                    CREATE TABLE timestamp_leaf(
                        captureID TEXT NOT NULL, tsa TEXT NOT NULL, timestampID TEXT NOT NULL,
                        PRIMARY KEY(captureID, tsa, timestampID)) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v22") { db in
            // Revisits of this node's own articles, to catch edits their feeds do not announce (local state, not
            // synced): the next one due for each article, and what a day's revisits cost.
            try db.execute(
                sql: """
                    CREATE TABLE revisit(
                        articleID TEXT PRIMARY KEY NOT NULL, url TEXT NOT NULL, feedID INTEGER,
                        firstAt REAL NOT NULL, step INTEGER NOT NULL, due REAL NOT NULL) WITHOUT ROWID;
                    CREATE INDEX revisit_due ON revisit(due);
                    CREATE TABLE revisit_day(
                        day TEXT PRIMARY KEY NOT NULL, requests INTEGER NOT NULL, bytes INTEGER NOT NULL,
                        changed INTEGER NOT NULL) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v23") { db in
            // Events: the reports of one event across outlets, groups of stories. Each text's event (named by the
            // smallest text id in it) with the text's profile (weighted word hashes, packed) and publication day (-1
            // without one); its key terms with that day, to find candidates; and what each merged event's id became.
            // Texts stored before are filed by the daemon after it starts (``Archive/fileUnfiledEvents(limit:)``): at
            // 100,000 texts this takes a minute or two, too long to hold a start.
            try db.execute(
                sql: """
                    CREATE TABLE event_key(
                        term INTEGER NOT NULL, day INTEGER NOT NULL, textID TEXT NOT NULL,
                        PRIMARY KEY(term, day, textID)) WITHOUT ROWID;
                    CREATE TABLE event_member(
                        textID TEXT PRIMARY KEY NOT NULL, eventID TEXT NOT NULL, day INTEGER NOT NULL, profile BLOB NOT NULL);
                    CREATE INDEX event_member_event ON event_member(eventID);
                    CREATE TABLE event_merge(
                        eventID TEXT PRIMARY KEY NOT NULL, intoID TEXT NOT NULL, at REAL NOT NULL) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v24") { db in
            // A search reads each hit's extractions (their capture and node) from the index alone, not the table too.
            try db.execute(
                sql: """
                    CREATE INDEX extraction_text_capture ON extraction(textID, captureID, nodeID);
                    DROP INDEX extraction_text;
                    """)
        }
        migrator.registerMigration("v25") { db in
            // zstd dictionaries (``Archive/buildDictionaries(limit:)``): their bytes are a blob; a host's (`pages`:
            // how many of its pages it holds), or the general one (host '', `pages`: the hosts it was trained for).
            // A page's host is found from its blob.
            try db.execute(
                sql: """
                    CREATE TABLE dictionary(
                        hash TEXT PRIMARY KEY NOT NULL, host TEXT NOT NULL, pages INTEGER NOT NULL, createdAt REAL NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX dictionary_host ON dictionary(host);
                    CREATE INDEX capture_blob ON capture(blobHash);
                    """)
        }
        migrator.registerMigration("v26") { db in
            // A host's dictionary is made again of its newer pages (``Archive/buildDictionaries(limit:)``):
            // `since` is when the oldest page it was made of was fetched (NULL for a host's first: it is for all its
            // pages until the next), `checked` when the newest page it was made of was.
            try db.execute(sql: "ALTER TABLE dictionary ADD COLUMN since TEXT; ALTER TABLE dictionary ADD COLUMN checked TEXT")
        }
        migrator.registerMigration("v27") { db in
            // Filing a text into events reads each candidate's event from this index alone, and the profile (most of a
            // row) only of candidates in events not yet joined (``Archive/fileEvent(textID:profile:copies:db:)``).
            try db.execute(sql: "CREATE INDEX event_member_text_event ON event_member(textID, eventID)")
        }
        return migrator
    }
}

extension ContentHash: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { hex.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> ContentHash? {
        String.fromDatabaseValue(dbValue).flatMap(ContentHash.init(hex:))
    }
}

extension NodeRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "node"
}

extension ArticleRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "article"
}

extension CaptureRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "capture"
}

extension TextRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "text"
}

extension ExtractionRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "extraction"
}

extension AnnotationRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "annotation"
}

extension TimestampRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "timestamp"
}
