import Testing

@testable import Archive

@Suite struct SnippetTests {
    private func snippet(_ query: String, _ text: String) throws -> String {
        var snippet = Snippet(expression: try Archive.matchExpression(query))
        return snippet.make(text)
    }

    @Test func theWindowOpensAtTheFirstMatchAndMarksEveryMatchInIt() throws {
        let text = (1...40).map { "w\($0)" }.joined(separator: " ") + " Floods reached the town; floods\nagain. " + "tail words"
        #expect(
            try snippet("floods", text)
                == "…w37 w38 w39 w40 [Floods] reached the town; [floods] again. tail words")
        let long = (1...200).map { "w\($0)" }.joined(separator: " ")
        #expect(try snippet("w100", long) == "…w96 w97 w98 w99 [w100] w101 w102 w103 w104 w105 w106 w107 w108 w109 w110 w111…")
    }

    @Test func caseDiacriticsPhrasesPrefixesAndOtherScriptsMatchAsTheIndexDoes() throws {
        #expect(try snippet("Daraa", "Shelling in Darâa overnight.") == "Shelling in [Darâa] overnight.")
        #expect(try snippet("al-Balad", "The old town, Al-Balad, was hit.") == "The old town, [Al]-[Balad], was hit.")
        #expect(try snippet("flood*", "Flooding and floods.") == "[Flooding] and [floods].")
        #expect(try snippet("делом", "Это было Делом чести.") == "Это было [Делом] чести.")
        #expect(try snippet("\"of the\" AND NOT rain", "Most of the town.") == "Most [of] [the] town.")
    }

    @Test func aMatchFarIntoALongTextIsFoundWithoutReadingUpToIt() throws {
        let filler = String(repeating: "слово ", count: 40_000)
        let text = filler + "В Дераа снова бои. " + filler
        #expect(
            try snippet("дераа", text)
                == "…слово слово слово В [Дераа] снова бои. слово слово слово слово слово слово слово слово слово…")
        // Folding takes the breve off "й"; the word as typed is still found far into the text.
        let typed = filler + "умиротворяющий вид"
        #expect(try snippet("умиротворяющий", typed).hasSuffix("[умиротворяющий] вид"))
        // A form only folding finds (other diacritics) is looked for in the first 8,192 characters; past them, the
        // opening words.
        let folded = String(repeating: "x ", count: 100) + "Darâa " + String(repeating: "y ", count: 100)
        #expect(try snippet("Daraa", folded).contains("[Darâa]"))
        let far = String(repeating: "x ", count: 5000) + "Darâa"
        #expect(try snippet("Daraa", far) == String(repeating: "x ", count: 16).dropLast() + "…")
    }

    @Test func onlyThePartAroundTheMatchIsReadYetTheWindowIsTheWholeTextsWindow() throws {
        // The term first stands inside a longer word, then as a word far on: the window is at the word.
        let inside = "reinforcement " + String(repeating: "a ", count: 2000) + "Forces moved in."
        #expect(try snippet("forces", inside) == "…a a a a [Forces] moved in.")
        // Only inside longer words: the opening words.
        #expect(try snippet("forces", "reinforcesments and more") == "reinforcesments and more")
        // After the match, more than a KB without a word: the window goes on past it, and the text's end shows.
        let spaced = "Floods " + String(repeating: "- ", count: 1500) + "came back"
        #expect(try snippet("floods", spaced) == "[Floods] " + String(repeating: "- ", count: 1500) + "came back")
        // A window that ends before the text does ends with an ellipsis, however the part read was cut.
        let long = String(repeating: "x ", count: 100) + "Floods " + String(repeating: "y ", count: 2000)
        #expect(try snippet("floods", long) == "…x x x x [Floods] y y y y y y y y y y y…")
    }

    @Test func aTermInsideLongerWordsIsPassedOverForTheWordItself() throws {
        // "forces" stands inside "reinforces" first; the window opens at the word.
        let text = "It reinforces the line. " + (1...30).map { "w\($0)" }.joined(separator: " ") + " Forces moved in."
        #expect(try snippet("forces", text) == "…w27 w28 w29 w30 [Forces] moved in.")
        // Punctuation beyond ASCII ends a word as a space does; a letter beyond ASCII goes on with it.
        #expect(try snippet("syria", "In Syria’s south.") == "In [Syria]’s south.")
        #expect(try snippet("dara", "Daraé and then Dara.") == "Daraé and then [Dara].")
    }

    @Test func aTextWhoseTitleHoldsTheTermOpensWithItsFirstWords() throws {
        var snippet = Snippet(expression: try Archive.matchExpression("daraa"))
        let text = (1...30).map { "w\($0)" }.joined(separator: " ")
        #expect(snippet.make(text, title: "Shelling in Daraa") == (1...16).map { "w\($0)" }.joined(separator: " ") + "…")
        #expect(snippet.make("Shelling in Darâa again.", title: "Daraa") == "Shelling in Darâa again.")
        #expect(snippet.make("Shelling in Darâa again.", title: "Elsewhere") == "Shelling in [Darâa] again.")
    }

    @Test func aMatchInTheTitleOnlyShowsTheOpeningWords() throws {
        let text = (1...30).map { "w\($0)" }.joined(separator: " ")
        #expect(try snippet("absent", text) == (1...16).map { "w\($0)" }.joined(separator: " ") + "…")
        #expect(try snippet("absent", "") == "")
    }
}
