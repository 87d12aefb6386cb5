import ArgumentParser
import Foundation
import NewsCore

extension Newsctl {
    struct Web: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sets up the daemon's web interface.", subcommands: [Passwd.self])

        struct Passwd: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Hashes a password for the web interface and prints the web_password line for the configuration.",
                discussion: """
                    Asks for the password twice on a terminal, or reads its first line from standard input. Put the \
                    printed line in the configuration file and reload newsd (a restart applies it).
                    """)

            @Flag(help: "Print JSON instead of text.")
            var json = false

            func run() async throws {
                try await report {
                    let password = try Self.readPassword()
                    guard password.count >= 8 else { throw CLIError("the password must be at least 8 characters") }
                    let hash = try WebPassword.hash(password)
                    if json {
                        print(String(decoding: try JSONCoding.encoder(pretty: true).encode(["webPassword": hash]), as: UTF8.self))
                    } else {
                        print("web_password = \"\(hash)\"")
                    }
                }
            }

            /// The password: asked twice without echo on a terminal, else the first line of standard input.
            private static func readPassword() throws -> String {
                guard isatty(STDIN_FILENO) == 1 else {
                    guard let line = readLine(strippingNewline: true) else { throw CLIError("no password on standard input") }
                    return line
                }
                let first = try ask("Password: ")
                guard try ask("Again: ") == first else { throw CLIError("the two passwords differ") }
                return first
            }

            /// One line read from the terminal with echo off.
            private static func ask(_ prompt: String) throws -> String {
                FileHandle.standardError.write(Data(prompt.utf8))
                var saved = termios()
                tcgetattr(STDIN_FILENO, &saved)
                var quiet = saved
                quiet.c_lflag &= ~tcflag_t(ECHO)
                tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
                defer {
                    tcsetattr(STDIN_FILENO, TCSANOW, &saved)
                    FileHandle.standardError.write(Data("\n".utf8))
                }
                guard let line = readLine(strippingNewline: true) else { throw CLIError("no password given") }
                return line
            }
        }
    }
}
