/// newsd's release version, reported by `newsctl status` and in the User-Agent.
public let newsdVersion = "0.1.0"
