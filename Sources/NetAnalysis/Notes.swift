/// An analysis annotation on one packet. Formatters print `text` as a suffix on the line and the
/// whole note in JSON `notes`.
public struct Note: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case duplicateFrame = "duplicate_frame"
    }

    public var kind: Kind
    public var text: String
    /// The frame this note refers to (for a duplicate: the first copy).
    public var relatedFrame: Int?

    public init(kind: Kind, text: String, relatedFrame: Int? = nil) {
        self.kind = kind
        self.text = text
        self.relatedFrame = relatedFrame
    }
}
