import Foundation

/// What an HTTP `Content-Type` says beyond the media type.
public enum ContentType {
    /// The `charset` parameter of `contentType`, lowercased, if it has one.
    public static func charset(_ contentType: String?) -> String? {
        guard let contentType else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let parts = parameter.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "charset" else { continue }
            let value = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: " \"'")).lowercased()
            return value.isEmpty ? nil : value
        }
        return nil
    }
}
