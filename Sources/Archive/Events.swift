import Foundation
import GRDB
public import NewsCore

extension Archive {
    /// Day stored for a text without a publication date.
    static let undatedDay = -1

    /// Files a text into an event: the event of every earlier text whose profile says it reports the same event
    /// (``EventProfile/isSameEvent(as:)``) and of `copies` (texts of its story), merging them if several, or a new one.
    ///
    /// Whether two texts are linked depends on the two texts alone, so an event, the texts so linked, is the same on
    /// every node that holds the same texts, whatever order they arrived in; its id is its smallest text id. Work per
    /// text depends on how many texts share two of its key terms within the date window, not on the archive's size.
    static func fileEvent(textID: String, profile: EventProfile, copies: [String], db: Database) throws {
        let day = profile.day ?? undatedDay
        let keys = profile.keys.map { Int64(bitPattern: $0) }
        var events = Set<String>()
        for copy in copies {
            if let event = try String.fetchOne(
                db.cachedStatement(sql: "SELECT eventID FROM event_member WHERE textID = ?"), arguments: [copy])
            {
                events.insert(event)
            }
        }
        if keys.count >= EventProfile.sharedKeys {
            let marks = Array(repeating: "?", count: keys.count).joined(separator: ",")
            // Within the window, or undated: two searches of the key index, each on (term, day). Written as one
            // condition with OR, the index was searched on the term alone, reading the term's rows of every day:
            // filing then cost more as the archive grew.
            let matching =
                profile.day == nil
                ? "SELECT textID FROM event_key WHERE term IN (\(marks))"
                : """
                SELECT textID FROM event_key WHERE term IN (\(marks)) AND day BETWEEN ? AND ?
                UNION ALL SELECT textID FROM event_key WHERE term IN (\(marks)) AND day = \(undatedDay)
                """
            var arguments = StatementArguments(keys)
            if profile.day != nil {
                arguments += [day - EventProfile.windowDays, day + EventProfile.windowDays]
                arguments += StatementArguments(keys)
            }
            arguments += [EventProfile.sharedKeys]
            arguments += StatementArguments(Array(events))
            // Each text that shares enough key terms, with its event, read from the index on (textID, eventID) alone; a
            // candidate of an event already joined adds nothing, and its profile is not read (those of its copies'
            // events are not even listed). Where most texts of the window are in one event, as in an archive of one
            // region's reporting, this leaves few profiles to read.
            let candidates = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT textID, eventID FROM event_member INDEXED BY event_member_text_event
                        WHERE textID IN (SELECT textID FROM (\(matching)) GROUP BY textID HAVING COUNT(*) >= ?)
                          AND eventID NOT IN (\(Array(repeating: "?", count: events.count).joined(separator: ",")))
                        """), arguments: arguments)
            let profileOf = try db.cachedStatement(sql: "SELECT day, profile FROM event_member WHERE textID = ?")
            while let candidate = try candidates.next() {
                let event: String = candidate[1]
                guard !events.contains(event),
                    let row = try Row.fetchOne(profileOf, arguments: [candidate[0] as String])
                else { continue }
                let otherDay: Int = row[0]
                guard
                    let other = EventProfile(
                        encoded: row[1], day: otherDay == undatedDay ? nil : otherDay)
                else { continue }
                if profile.isSameEvent(as: other) { events.insert(event) }
            }
        }
        if !keys.isEmpty {
            var rows = StatementArguments()
            for term in keys { rows += [term, day, textID] }
            try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO event_key(term, day, textID) VALUES "
                    + Array(repeating: "(?, ?, ?)", count: keys.count).joined(separator: ", ")
            ).execute(arguments: rows)
        }
        let event = (events + [textID]).min()!
        let now = Date().timeIntervalSince1970
        for merged in events where merged != event {
            try db.cachedStatement(sql: "UPDATE event_member SET eventID = ? WHERE eventID = ?").execute(arguments: [
                event, merged,
            ])
            try db.cachedStatement(
                sql: """
                    INSERT INTO event_merge(eventID, intoID, at) VALUES (?, ?, ?)
                    ON CONFLICT(eventID) DO UPDATE SET intoID = excluded.intoID, at = excluded.at
                    """
            ).execute(arguments: [merged, event, now])
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO event_member(textID, eventID, day, profile) VALUES (?, ?, ?, ?)
                ON CONFLICT(textID) DO UPDATE SET eventID = excluded.eventID, day = excluded.day, profile = excluded.profile
                """
        ).execute(arguments: [textID, event, day, profile.encoded()])
    }

    /// Files every text into events again, from scratch, in the order the texts were stored (events do not depend on
    /// it); returns how many texts were filed. Merges recorded before are forgotten.
    @discardableResult
    public func refileEvents() throws -> Int {
        try pool.write { db in
            try db.execute(
                sql: "DELETE FROM event_key; DELETE FROM event_member; DELETE FROM event_merge")
            return try Self.fileEvents(db: db)
        }
    }

    /// Files up to `limit` texts that are in no event yet (texts stored before events were, in an archive made by an
    /// older newsd), in one transaction; returns how many. Zero: every text is filed.
    public func fileUnfiledEvents(limit: Int) throws -> Int {
        try pool.write { db in try Self.fileEvents(db: db, limit: limit) }
    }

    /// Files texts not yet in an event (at most `limit`), each with the event of a copy already filed; returns how many.
    static func fileEvents(db: Database, limit: Int = Int.max) throws -> Int {
        let texts = try Row.fetchCursor(
            db,
            sql: """
                SELECT text.id, text.title, text.body, text.published,
                       (SELECT copy.textID FROM story_member AS own
                        JOIN story_member AS copy ON copy.storyID = own.storyID
                        JOIN event_member ON event_member.textID = copy.textID
                        WHERE own.textID = text.id LIMIT 1)
                FROM text WHERE text.id NOT IN (SELECT textID FROM event_member) ORDER BY text.seq LIMIT ?
                """, arguments: [limit])
        var filed = 0
        while let row = try texts.next() {
            let profile = EventProfile(title: row[1], body: row[2], published: row[3])
            let copy: String? = row[4]
            try fileEvent(textID: row[0], profile: profile, copies: copy.map { [$0] } ?? [], db: db)
            filed += 1
        }
        return filed
    }

    /// The event `id` names today: itself, or what it was merged into (and that, in turn).
    static func currentEvent(_ id: String, db: Database) throws -> String {
        var current = id
        var seen = Set<String>()
        while seen.insert(current).inserted,
            let into = try String.fetchOne(db, sql: "SELECT intoID FROM event_merge WHERE eventID = ?", arguments: [current])
        {
            current = into
        }
        return current
    }

    /// Events with at least `minimumTexts` texts, largest first (the first `offset` skipped), each with its stories
    /// and, of each story, the first `membersEach` texts.
    public func events(minimumTexts: Int = 2, limit: Int = 100, offset: Int = 0, membersEach: Int = 20) throws -> [Event] {
        try pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT eventID, COUNT(*) AS size FROM event_member GROUP BY eventID HAVING size >= ?
                    ORDER BY size DESC, eventID LIMIT ? OFFSET ?
                    """, arguments: [minimumTexts, limit, offset])
            return try rows.map { try Self.event($0["eventID"], size: $0["size"], membersEach: membersEach, db: db) }
        }
    }

    /// The event `id` (or the first 8 hex digits or more of it) names, was merged into, or holds as a copy group; `nil`
    /// if none, or more than one, has such an id.
    public func event(_ id: String, membersEach: Int = 500) throws -> Event? {
        try pool.read { db in
            guard id.count >= 8, id.allSatisfy(\.isHexDigit) else { return nil }
            let prefix = id.lowercased()
            var found = try String.fetchAll(
                db, sql: "SELECT DISTINCT eventID FROM event_member WHERE eventID >= ? AND eventID < ? || 'g' LIMIT 2",
                arguments: [prefix, prefix])
            if found.isEmpty {
                found = try String.fetchAll(
                    db, sql: "SELECT eventID FROM event_merge WHERE eventID >= ? AND eventID < ? || 'g' LIMIT 2",
                    arguments: [prefix, prefix]
                ).map { try Self.currentEvent($0, db: db) }
            }
            if found.isEmpty {
                // A copy group's id names the event that holds it.
                found = try String.fetchAll(
                    db,
                    sql: """
                        SELECT DISTINCT event_member.eventID FROM story_member JOIN event_member USING (textID)
                        WHERE story_member.storyID >= ? AND story_member.storyID < ? || 'g' LIMIT 2
                        """, arguments: [prefix, prefix])
            }
            guard found.count == 1, let event = found.first else { return nil }
            let size = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event_member WHERE eventID = ?", arguments: [event])
            return try Self.event(event, size: size ?? 0, membersEach: membersEach, db: db)
        }
    }

    /// The event of each text in `texts` (by text id).
    public func events(of texts: [ContentHash]) throws -> [ContentHash: String] {
        try groups(of: texts, in: "event")
    }

    /// Event `id` of `size` texts with its stories, earliest captured first, and what was merged into it.
    private static func event(_ id: String, size: Int, membersEach: Int, db: Database) throws -> Event {
        let stories = try Row.fetchAll(
            db,
            sql: """
                SELECT story_size.storyID, story_size.size FROM story_size WHERE storyID IN (
                    SELECT DISTINCT story_member.storyID FROM event_member
                    JOIN story_member ON story_member.textID = event_member.textID WHERE event_member.eventID = ?)
                """, arguments: [id]
        ).map { try Self.story($0, membersEach: membersEach, db: db) }
            .sorted { ($0.members.first?.capturedAt ?? "", $0.id) < ($1.members.first?.capturedAt ?? "", $1.id) }
        // Every article of every text, not only the texts listed: the sources and the span are the whole event's.
        let articles = try Row.fetchAll(
            db,
            sql: """
                SELECT article.url, MIN(capture.fetchedAt) AS first, MAX(capture.fetchedAt) AS last FROM event_member
                JOIN extraction ON extraction.textID = event_member.textID
                JOIN capture ON capture.id = extraction.captureID
                JOIN article ON article.id = capture.articleID WHERE event_member.eventID = ? GROUP BY article.url
                """, arguments: [id])
        let merged = try String.fetchAll(
            db, sql: "SELECT eventID FROM event_merge WHERE intoID = ? ORDER BY at, eventID", arguments: [id])
        return Event(
            id: id, size: size, stories: stories,
            sources: Set(articles.compactMap { URL(string: $0["url"])?.host }).sorted(),
            firstCaptured: articles.compactMap { $0["first"] as String? }.min(),
            lastCaptured: articles.compactMap { $0["last"] as String? }.max(), merged: merged)
    }
}
