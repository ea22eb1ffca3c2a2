using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Tests.TrainingData;
using ObjectaLabs.Orleans.Training;
using ObjectaLabs.Orleans.Training.Cost;

namespace ObjectaLabs.Orleans.Tests.Cost;

public sealed class TrainingCostEstimatorTests
{
    private static readonly BaseModel Mini = TrainingDataFixture.Models.Get("openai/gpt-4o-mini-2024-07-18");
    private static readonly BaseModel Llama = TrainingDataFixture.Models.Get("together/meta-llama/Meta-Llama-3.1-8B-Instruct-Reference");
    private static readonly BaseModel Sandbox = TrainingDataFixture.Models.Get("sandbox/sandbox-small");

    // OpenAI cookbook heuristic: 3; n×3 < 100 → min(25, 100 // n); n×3 > 25,000 → max(1, 25,000 // n).
    [Theory]
    [InlineData(1, 25)]        // 100 // 1 = 100, capped at 25
    [InlineData(5, 20)]        // 15 < 100: 100 // 5 = 20 (the cookbook's 5-example demo)
    [InlineData(10, 10)]       // 30 < 100: 100 // 10
    [InlineData(33, 3)]        // 99 < 100: 100 // 33 = 3
    [InlineData(34, 3)]        // 102: the default 3
    [InlineData(8_333, 3)]     // 24,999: still 3
    [InlineData(8_334, 2)]     // 25,002 > 25,000: 25,000 // 8,334 = 2
    [InlineData(10_000, 2)]    // 30,000 > 25,000: 25,000 // 10,000 = 2
    [InlineData(20_000, 1)]    // 25,000 // 20,000 = 1
    [InlineData(100_000, 1)]   // 25,000 // 100,000 = 0, raised to 1
    public void Auto_epochs_follow_openais_documented_heuristic(int examples, int epochs) =>
        TrainingCostEstimator.AutoEpochs(examples).Should().Be(epochs);

    [Fact]
    public void Five_examples_on_gpt_4o_mini_train_20_epochs_at_3_dollars_per_million()
    {
        // Σ tokens = 100 + 200 + 300 + 400 + 500 = 1,500; auto → 20 epochs; 20 × 1,500 = 30,000 tokens
        // 30,000 × $3 / 1M = $0.09. Validation (50 + 70 = 120 tokens) is not billed by OpenAI.
        var estimate = TrainingCostEstimator.Estimate(Mini, new DatasetTokenCounts([100, 200, 300, 400, 500], [50, 70], Approximate: false), epochs: null);

        estimate.Epochs.Should().Be(20);
        estimate.EpochsAuto.Should().BeTrue();
        estimate.TrainingTokensPerEpoch.Should().Be(1_500);
        estimate.BillableTrainingTokens.Should().Be(30_000);
        estimate.ValidationTokens.Should().Be(120);
        estimate.ValidationBilling.Should().Be(ValidationBilling.NotBilled);
        estimate.BillableValidationTokens.Should().Be(0);
        estimate.TrainingPricePerMillion.Should().Be(3.00m);
        estimate.TrainingCost.Should().Be(CostFigure.Known(0.09m));
        estimate.ValidationCost.Should().Be(CostFigure.Zero);
        estimate.TotalCost.Usd.Should().Be(0.09m);
        estimate.ApproximateTokens.Should().BeFalse();
        estimate.IsEstimate.Should().BeTrue();
        estimate.AverageTrainingExampleTokens.Should().Be(300m);
    }

    [Fact]
    public void The_guides_example_of_100k_tokens_for_3_epochs_costs_90_cents_on_gpt_4o_mini()
    {
        // 100 examples × 1,000 tokens = 100,000 tokens; 300 ≥ 100 → 3 epochs; 300,000 × $3 / 1M = $0.90
        var estimate = TrainingCostEstimator.Estimate(Mini, new DatasetTokenCounts(Enumerable.Repeat(1_000, 100).ToList(), [], false), epochs: null);
        estimate.Epochs.Should().Be(3);
        estimate.TotalCost.Usd.Should().Be(0.90m);
    }

    [Fact]
    public void Examples_over_the_models_limit_are_counted_truncated_at_the_limit()
    {
        // gpt-4o-mini trains at most 65,536 tokens per example: 70,000 counts as 65,536.
        // (65,536 + 1,000) × 2 epochs = 133,072 tokens × $3 / 1M = $0.399216
        var estimate = TrainingCostEstimator.Estimate(Mini, new DatasetTokenCounts([70_000, 1_000], [], false), epochs: 2);

        estimate.ExampleTokenLimit.Should().Be(65_536);
        estimate.TruncatedExamples.Should().Be(1);
        estimate.TrainingTokensPerEpoch.Should().Be(66_536);
        estimate.BillableTrainingTokens.Should().Be(133_072);
        estimate.TotalCost.Usd.Should().Be(0.399216m);
        estimate.EpochsAuto.Should().BeFalse();
        estimate.Notes.Should().Contain(n => n.Contains("65536") && n.Contains("truncated"));
    }

    [Fact]
    public void An_example_exactly_at_the_limit_is_not_truncated()
    {
        var estimate = TrainingCostEstimator.Estimate(Mini, new DatasetTokenCounts([65_536], [], false), epochs: 1);
        (estimate.TruncatedExamples, estimate.BillableTrainingTokens).Should().Be((0, 65_536L));
    }

    [Fact]
    public void Together_with_no_published_price_is_unknown_never_zero_and_bills_evaluations()
    {
        // Together bills n_evals × validation tokens: 2 × (100 + 150) = 500, beside 3 × 900 = 2,700 training tokens.
        var quote = new ProviderCostQuote("together", 12.3m, 3_000_000, 0, AllowedToProceed: true);
        var estimate = TrainingCostEstimator.Estimate(Llama, new DatasetTokenCounts([400, 500], [100, 150], Approximate: true), epochs: 3, evaluations: 2, providerQuote: quote);

        estimate.BillableTrainingTokens.Should().Be(2_700);
        estimate.ValidationBilling.Should().Be(ValidationBilling.PerEvaluation);
        estimate.BillableValidationTokens.Should().Be(500);
        estimate.TrainingCost.Usd.Should().BeNull();
        estimate.TrainingCost.UnknownReason.Should().Contain("no training price").And.Contain(Llama.Id);
        estimate.TotalCost.IsKnown.Should().BeFalse();
        estimate.TotalCost.UnknownReason.Should().NotBeNullOrEmpty();
        estimate.ApproximateTokens.Should().BeTrue();
        estimate.Notes.Should().Contain(n => n.Contains("approximate")).And.Contain(n => n.Contains("limit is unknown"));
        estimate.ProviderQuote.Should().Be(quote);
    }

    [Fact]
    public void Together_without_evaluations_bills_no_validation_tokens()
    {
        var estimate = TrainingCostEstimator.Estimate(Llama, new DatasetTokenCounts([400], [100], true), epochs: 1);
        (estimate.Evaluations, estimate.BillableValidationTokens).Should().Be((0, 0L));
        estimate.ValidationCost.Should().Be(CostFigure.Zero);
    }

    [Fact]
    public void A_free_sandbox_model_costs_a_known_zero()
    {
        var estimate = TrainingCostEstimator.Estimate(Sandbox, new DatasetTokenCounts([100, 100], [], true), epochs: null);
        estimate.TotalCost.Should().Be(CostFigure.Known(0m));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(51)]
    public void Epochs_outside_1_to_50_are_refused_naming_the_field(int epochs)
    {
        var estimate = () => TrainingCostEstimator.Estimate(Mini, new DatasetTokenCounts([100], [], false), epochs);
        estimate.Should().Throw<ProblemException>().Which.Field.Should().Be("hyperparameters.epochs");
    }

    [Fact]
    public void A_job_with_no_training_examples_is_refused() =>
        FluentActions.Invoking(() => TrainingCostEstimator.Estimate(Mini, new DatasetTokenCounts([], [100], false), null))
            .Should().Throw<ProblemException>().Which.Field.Should().Be("trainingExamples");

    [Fact]
    public void Negative_evaluations_are_refused() =>
        FluentActions.Invoking(() => TrainingCostEstimator.Estimate(Llama, new DatasetTokenCounts([100], [100], true), 1, evaluations: -1))
            .Should().Throw<ProblemException>().Which.Field.Should().Be("hyperparameters.evaluations");

    [Fact]
    public void Actual_cost_prices_the_tokens_the_provider_trained()
    {
        // The OpenAI job example's trained_tokens 5,768 × $3 / 1M = $0.017304
        TrainingCostEstimator.ActualCost(Mini, 5_768).Should().Be(CostFigure.Known(0.017304m));
        TrainingCostEstimator.ActualCost(Llama, 5_768).IsKnown.Should().BeFalse();
    }

    [Fact]
    public void Dataset_counts_use_the_base_models_tokenizer_and_flag_approximate_ones()
    {
        // {"user": "Hi"}, {"assistant": "Hello"} in o200k_base: 3 priming + 2 × 3 per message
        // + "user" 1 + "Hi" 1 + "assistant" 1 + "Hello" 1 = 13 tokens.
        var example = """{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}""";
        var exact = DatasetTokenCounts.Count(Mini, TrainingDataFixture.Tokenizers, [example, example], [example]);
        exact.Training.Should().Equal(13, 13);
        exact.Validation.Should().Equal(13);
        exact.Approximate.Should().BeFalse();
        DatasetTokenCounts.Count(Llama, TrainingDataFixture.Tokenizers, [example], []).Approximate.Should().BeTrue();
    }
}
