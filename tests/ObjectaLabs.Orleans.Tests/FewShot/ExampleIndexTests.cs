using System.Text.Json;
using ObjectaLabs.Orleans.FewShot;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Tests.FewShot;

/// <summary>
/// The lexical index against BM25 computed here from its definition, its segments (removals, a delta, a rebuild past
/// the delta's limit), the agent filter, and the template rules and rendering that need no cluster.
/// </summary>
public sealed class ExampleIndexTests
{
    private static readonly Guid AgentA = Guid.NewGuid();
    private static readonly Guid AgentB = Guid.NewGuid();

    private static IndexedExample Example(TermDictionary terms, string question, Guid? agent = null, Guid? id = null) =>
        IndexedExample.Create(new SelectableRow
        {
            Id = id ?? Guid.NewGuid(),
            AgentId = agent,
            Messages = JsonSerializer.Serialize(new object[] { new { role = "user", content = question }, new { role = "assistant", content = "Answer." } }),
            Tags = [],
            UpdatedAt = DateTime.UtcNow,
        }, terms);

    /// <summary>BM25 (k1 1.2, b 0.75, idf ln(1 + (N − df + 0.5)/(df + 0.5))) over the examples' terms, from scratch.</summary>
    private static Dictionary<Guid, double> Bm25(IReadOnlyList<IndexedExample> examples, string query, TermDictionary terms)
    {
        var queryTerms = ExampleTerms.Of(query).Distinct().Where(t => terms.TryGet(t, out _)).Select(t => { terms.TryGet(t, out var id); return id; }).ToList();
        var average = examples.Average(e => (double)e.Length);
        var scores = new Dictionary<Guid, double>();
        foreach (var example in examples)
        {
            double score = 0;
            foreach (var term in queryTerms)
            {
                var tf = example.CountOf(term);
                if (tf == 0)
                {
                    continue;
                }
                var df = examples.Count(e => e.CountOf(term) > 0);
                var idf = Math.Log(1 + (examples.Count - df + 0.5) / (df + 0.5));
                score += idf * tf * 2.2 / (tf + 1.2 * (1 - 0.75 + 0.75 * example.Length / average));
            }
            if (score > 0)
            {
                scores[example.Id] = score;
            }
        }
        return scores;
    }

    private static List<IndexedExample> Corpus(TermDictionary terms, int count, int seed)
    {
        var random = new Random(seed);
        string[] words = ["refund", "order", "password", "reset", "shipping", "address", "invoice", "payment", "card", "account",
            "delete", "track", "package", "cancel", "subscription", "broken", "late", "email", "login", "charge"];
        return [.. Enumerable.Range(0, count).Select(i => Example(terms,
            string.Join(' ', Enumerable.Range(0, random.Next(3, 9)).Select(_ => words[random.Next(words.Length)])), i % 3 == 0 ? AgentA : AgentB))];
    }

    [Theory]
    [InlineData("refund for a broken order")]
    [InlineData("reset my password and login")]
    [InlineData("track the late package shipping")]
    public void Search_ranks_by_exact_BM25_when_every_posting_is_walked(string query)
    {
        var terms = new TermDictionary();
        var examples = Corpus(terms, 300, seed: 3);
        var index = ExampleIndex.Build(terms, examples);

        var found = index.Search(query, null, 10);
        var expected = Bm25(examples, query, terms).OrderByDescending(p => p.Value).Take(10).ToList();

        found.Should().HaveCount(10);
        for (var i = 0; i < 10; i++)
        {
            found[i].Score.Should().BeApproximately(expected[i].Value, 1e-4, $"rank {i + 1}");
        }
        found.Select(f => f.Score).Should().BeInDescendingOrder();
    }

    [Fact]
    public void Removed_examples_are_never_found_edited_ones_are_found_as_edited_and_a_rebuild_past_the_delta_keeps_both()
    {
        var terms = new TermDictionary();
        var examples = Corpus(terms, 200, seed: 5);
        var index = ExampleIndex.Build(terms, examples);
        var best = index.Search("refund order", null, 1)[0].Example;

        var removed = index.With([best.Id], []);
        removed.Search("refund order", null, 50).Should().NotContain(r => r.Example.Id == best.Id);
        removed.Count.Should().Be(199);
        index.Search("refund order", null, 1)[0].Example.Id.Should().Be(best.Id, "an index never changes; a change builds the next");

        var edited = Example(terms, "quokka lanyard", id: best.Id);
        var withEdit = removed.With([], [edited]);
        withEdit.Search("quokka", null, 5).Should().ContainSingle().Which.Example.Should().BeSameAs(edited);
        withEdit.Search("refund order", null, 200).Should().NotContain(r => r.Example.Id == best.Id, "its old question is gone");
        withEdit.DeltaCount.Should().Be(1);

        var many = Enumerable.Range(0, ExampleIndex.MaxDelta + 1).Select(i => Example(terms, $"zebra{i} kiosk")).ToList();
        var rebuilt = withEdit.With([], many);
        rebuilt.DeltaCount.Should().Be(0, "past the delta's limit the index is rebuilt");
        rebuilt.Count.Should().Be(200 + many.Count);
        rebuilt.Search("quokka", null, 5).Should().ContainSingle().Which.Example.Id.Should().Be(best.Id);
        rebuilt.Search("refund order", null, 300).Should().NotContain(r => r.Example.Question.Contains("refund") && r.Example.Id == best.Id);
        rebuilt.Search("zebra7 kiosk", null, 1)[0].Example.Question.Should().Be("zebra7 kiosk");
    }

    [Fact]
    public void An_agent_filter_returns_that_agents_examples_only_in_both_segments()
    {
        var terms = new TermDictionary();
        var examples = Corpus(terms, 120, seed: 9);
        var index = ExampleIndex.Build(terms, examples).With([], [Example(terms, "refund refund order", AgentB)]);

        index.Search("refund order", AgentA, 50).Should().NotBeEmpty().And.OnlyContain(r => r.Example.AgentId == AgentA);
        index.Search("refund order", AgentB, 50).Should().Contain(r => r.Example.Question == "refund refund order").And.OnlyContain(r => r.Example.AgentId == AgentB);
        index.HasExamplesOf(AgentA).Should().BeTrue();
        index.HasExamplesOf(Guid.NewGuid()).Should().BeFalse();
    }

    [Fact]
    public void Placeholders_are_filled_in_one_pass_so_a_value_holding_a_placeholder_stays_text()
    {
        FewShotSelector.Fill("Q: {question}\nA: {answer} {unknown} {", ("question", "why {answer}?"), ("answer", "because"))
            .Should().Be("Q: why {answer}?\nA: because {unknown} {");
    }

    [Fact]
    public void The_embedding_mode_is_refused_naming_mode_where_no_embeddings_endpoint_is_configured()
    {
        var template = new FewShotTemplate(FewShotMode.Embedding, FewShotFormat.Chat, "", "", "", 3, 1000, [], FewShotApplyTo.BaseModels, default);
        var refusal = FluentActions.Invoking(() => FewShotTemplates.Check(template, embeddingsConfigured: false)).Should().Throw<ProblemException>().Which;
        refusal.Field.Should().Be("mode");
        FewShotTemplates.Check(template, embeddingsConfigured: true).Mode.Should().Be(FewShotMode.Embedding);
    }
}
