using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Tests.TrainingData;
using ObjectaLabs.Orleans.Training;
using ObjectaLabs.Orleans.Training.Cost;

namespace ObjectaLabs.Orleans.Tests.Cost;

public sealed class CostProjectorTests
{
    private static readonly BaseModel Mini = TrainingDataFixture.Models.Get("openai/gpt-4o-mini-2024-07-18");

    // The spec's traffic: 50,000 requests a month of 100 input and 100 output tokens; few-shot adds 5 examples of
    // 300 tokens. gpt-4o-mini per 1M: base $0.15 in / $0.60 out, fine-tuned $0.30 in / $1.20 out.
    private static readonly ProjectionInput Traffic = new(50_000, 100m, 100m, 5, 300m);

    [Fact]
    public void Monthly_costs_on_base_fine_tuned_and_few_shot_match_the_hand_computed_figures()
    {
        // base      = 50,000 × (100 × 0.15 + 100 × 0.60) / 1M = 50,000 × 75 / 1M  = $3.75
        // fineTuned = 50,000 × (100 × 0.30 + 100 × 1.20) / 1M = 50,000 × 150 / 1M = $7.50
        // fewShot   = 50,000 × ((100 + 5 × 300) × 0.15 + 100 × 0.60) / 1M = 50,000 × 300 / 1M = $15.00
        var projection = CostProjector.Project(Mini, Traffic, CostFigure.Known(20m));

        projection.BaseMonthly.Should().Be(CostFigure.Known(3.75m));
        projection.FineTunedMonthly.Should().Be(CostFigure.Known(7.50m));
        projection.FewShotMonthly.Should().Be(CostFigure.Known(15.00m));
    }

    [Fact]
    public void Fine_tuning_pays_back_its_training_cost_against_few_shot_in_the_hand_computed_month()
    {
        // saving vs few-shot = 15.00 − 7.50 = $7.50 a month; $20 of training / 7.50 = 2.67 → month 3
        var projection = CostProjector.Project(Mini, Traffic, CostFigure.Known(20m));
        projection.VersusFewShot.MonthlySaving.Should().Be(CostFigure.Known(7.50m));
        projection.VersusFewShot.BreakEvenMonth.Should().Be(3);
        projection.VersusFewShot.Note.Should().BeNull();
    }

    [Fact]
    public void Against_the_cheaper_base_model_fine_tuning_never_breaks_even()
    {
        // saving vs base = 3.75 − 7.50 = −$3.75: the fine-tuned model costs twice the base per token.
        var projection = CostProjector.Project(Mini, Traffic, CostFigure.Known(20m));
        projection.VersusBase.MonthlySaving.Should().Be(CostFigure.Known(-3.75m));
        projection.VersusBase.BreakEvenMonth.Should().BeNull();
        projection.VersusBase.Note.Should().StartWith("Never");
    }

    [Theory]
    [InlineData(15.00, 2)]   // exactly two months of $7.50
    [InlineData(15.01, 3)]
    [InlineData(0.90, 1)]
    [InlineData(0, 1)]       // nothing to pay back: from the first month
    public void Break_even_month_is_the_first_whose_savings_cover_the_training_cost(double training, int month) =>
        CostProjector.BreakEvenMonth((decimal)training, 7.50m).Should().Be(month);

    [Fact]
    public void Unknown_prices_make_the_figures_that_need_them_unknown()
    {
        // gpt-3.5-turbo: fine-tuned prices are published, base prices are not.
        var turbo = TrainingDataFixture.Models.Get("openai/gpt-3.5-turbo-0125");
        var projection = CostProjector.Project(turbo, Traffic, CostFigure.Known(1m));

        // fineTuned = 50,000 × (100 × 3.00 + 100 × 6.00) / 1M = $45.00
        projection.FineTunedMonthly.Should().Be(CostFigure.Known(45m));
        projection.BaseMonthly.IsKnown.Should().BeFalse();
        projection.FewShotMonthly.IsKnown.Should().BeFalse();
        projection.VersusFewShot.MonthlySaving.IsKnown.Should().BeFalse();
        projection.VersusFewShot.BreakEvenMonth.Should().BeNull();
        projection.VersusFewShot.Note.Should().Contain("no base inference price");
    }

    [Fact]
    public void An_unknown_training_cost_leaves_the_break_even_unknown_but_the_saving_known()
    {
        var projection = CostProjector.Project(Mini, Traffic, CostFigure.Unknown("no training price"));
        projection.VersusFewShot.MonthlySaving.Should().Be(CostFigure.Known(7.50m));
        projection.VersusFewShot.BreakEvenMonth.Should().BeNull();
        projection.VersusFewShot.Note.Should().Be("no training price");
    }

    [Fact]
    public void A_together_model_with_no_prices_projects_unknown_everywhere()
    {
        var llama = TrainingDataFixture.Models.Get("together/meta-llama/Meta-Llama-3.1-8B-Instruct-Reference");
        var projection = CostProjector.Project(llama, Traffic, CostFigure.Unknown("no training price"));
        new[] { projection.BaseMonthly, projection.FineTunedMonthly, projection.FewShotMonthly }.Should().OnlyContain(f => f.Usd == null && f.UnknownReason != null);
    }

    [Theory]
    [InlineData(-1, 100, 100, 5, 300, "monthlyRequests")]
    [InlineData(1, -1, 100, 5, 300, "averageInputTokens")]
    [InlineData(1, 100, -1, 5, 300, "averageOutputTokens")]
    [InlineData(1, 100, 100, -1, 300, "fewShotExamples")]
    [InlineData(1, 100, 100, 5, -1, "averageExampleTokens")]
    public void Negative_traffic_figures_are_refused_naming_the_field(long requests, double input, double output, int shots, double exampleTokens, string field)
    {
        var project = () => CostProjector.Project(Mini, new ProjectionInput(requests, (decimal)input, (decimal)output, shots, (decimal)exampleTokens), CostFigure.Zero);
        project.Should().Throw<ProblemException>().Which.Field.Should().Be(field);
    }
}
