using System.Text.Json;
using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Tokens;

namespace ObjectaLabs.Orleans.Training.Cost;

/// <summary>
/// Tokens of each example of a frozen training and validation set, counted with the base model's own tokenizer
/// (<see cref="ExampleTokenCounter"/>); <see cref="Approximate"/> when the model has no exact tokenizer.
/// </summary>
public sealed record class DatasetTokenCounts(IReadOnlyList<int> Training, IReadOnlyList<int> Validation, bool Approximate)
{
    /// <summary>Counts each example (one JSON object per string, already validated); the sequences are read once, in order.</summary>
    public static DatasetTokenCounts Count(BaseModel model, TokenizerCache tokenizers, IEnumerable<string> training, IEnumerable<string> validation)
    {
        var counter = ExampleTokenCounter.For(model, tokenizers);
        return new DatasetTokenCounts(CountAll(counter, training), CountAll(counter, validation), counter.Approximate);
    }

    private static List<int> CountAll(ExampleTokenCounter counter, IEnumerable<string> examples)
    {
        var counts = new List<int>();
        foreach (var example in examples)
        {
            using var document = JsonDocument.Parse(example);
            counts.Add(counter.CountExample(document.RootElement));
        }
        return counts;
    }
}
