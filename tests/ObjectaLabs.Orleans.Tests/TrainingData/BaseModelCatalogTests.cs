using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Plans;

namespace ObjectaLabs.Orleans.Tests.TrainingData;

public sealed class BaseModelCatalogTests
{
    private static BaseModelCatalog Shipped => TrainingDataFixture.Models;

    [Theory]
    [InlineData("openai/gpt-3.5-turbo-0125", "2026-10-23")]
    [InlineData("openai/gpt-4.1-nano-2025-04-14", "2026-10-23")]
    [InlineData("openai/gpt-4o-2024-08-06", "2027-01-14")]
    [InlineData("openai/gpt-4o-mini-2024-07-18", "2027-01-14")]
    [InlineData("openai/gpt-4.1-2025-04-14", "2027-01-14")]
    [InlineData("openai/gpt-4.1-mini-2025-04-14", "2027-01-14")]
    public void Catalog_records_the_published_openai_shutdowns(string id, string date) =>
        Shipped.Get(id).ShutdownDate.Should().Be(DateOnly.Parse(date, System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void Catalog_uses_each_models_own_tokenizer_and_marks_open_models_approximate()
    {
        Shipped.Get("openai/gpt-4o-mini-2024-07-18").Tokenizer.Should().Be(TokenizerKind.O200kBase);
        Shipped.Get("openai/gpt-4.1-2025-04-14").Tokenizer.Should().Be(TokenizerKind.O200kBase);
        Shipped.Get("openai/gpt-3.5-turbo-0125").Tokenizer.Should().Be(TokenizerKind.Cl100kBase);
        Shipped.All.Where(m => m.Provider == "together").Should().NotBeEmpty().And.OnlyContain(m => m.Tokenizer == TokenizerKind.Approximate);
    }

    [Fact]
    public void Catalog_keeps_unpublished_figures_unknown_rather_than_guessed()
    {
        Shipped.All.Where(m => m.Provider == "together").Should().OnlyContain(m => m.Prices.Training == null && m.MaxTrainingExampleTokens == null);
        Shipped.Get("openai/gpt-4.1-mini-2025-04-14").MaxTrainingExampleTokens.Should().BeNull();
        var mini = Shipped.Get("openai/gpt-4o-mini-2024-07-18");
        mini.Prices.Should().Be(new ModelPrices(3.00m, 0.15m, 0.60m, 0.30m, 0.15m, 1.20m));
        mini.MaxTrainingExampleTokens.Should().Be(65536);
    }

    [Theory]
    [InlineData("openai/gpt-4o-mini-2024-07-18", "2027-01-06", true)]
    [InlineData("openai/gpt-4o-mini-2024-07-18", "2027-01-07", false)]
    [InlineData("openai/gpt-4.1-mini-2025-04-14", "2027-01-07", false)]
    [InlineData("openai/gpt-3.5-turbo-0125", "2026-10-23", false)]
    [InlineData("openai/o4-mini-2025-04-16", "2026-01-01", false)]
    [InlineData("together/Qwen/Qwen2.5-7B-Instruct", "2030-01-01", true)]
    [InlineData("sandbox/sandbox-small", "2030-01-01", true)]
    public void Catalog_knows_the_last_day_each_provider_accepts_new_jobs(string id, string day, bool accepts) =>
        Shipped.Get(id).AcceptsNewJobs(DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture)).Should().Be(accepts);

    [Fact]
    public void Plans_offer_no_shut_down_model_and_grow_from_professional_to_enterprise()
    {
        var plans = PlanCatalog.Load(DataFile.DefaultPath("plans.json"));
        var professional = plans.Get("professional").AllowedBaseModels;
        var business = plans.Get("business").AllowedBaseModels;
        var today = new DateOnly(2026, 12, 3);
        professional.Concat(business).Should().OnlyContain(id => !Shipped.Get(id, "x").IsShutDown(today));
        professional.Should().Contain("openai/gpt-4o-mini-2024-07-18").And.NotContain("openai/gpt-4.1-mini-2025-04-14");
        business.Should().Contain(professional).And.Contain("openai/gpt-4.1-mini-2025-04-14").And.Contain("together/meta-llama/Meta-Llama-3.1-70B-Instruct-Reference");
        plans.Get("enterprise").AllowedBaseModels.Should().Equal("*");
    }

    [Fact]
    public void Every_plan_names_only_fine_tunable_catalog_models()
    {
        var plans = PlanCatalog.Load(DataFile.DefaultPath("plans.json"));
        Shipped.Invoking(c => c.CheckPlans(plans)).Should().NotThrow();
        var bad = new PlanCatalog([new PlanDefinition("x", "X", true, 1, 1, false, ["openai/gpt-9"])]);
        Shipped.Invoking(c => c.CheckPlans(bad)).Should().Throw<InvalidOperationException>().WithMessage("*gpt-9*");
    }

    [Theory]
    [InlineData("""{"id":"openai/x","fineTunable":true,"tokenizer":"p50k","prices":{}}""", "*tokenizer*")]
    [InlineData("""{"id":"together/x","fineTunable":true,"tokenizer":"o200k_base","prices":{}}""", "*must start with 'openai/'*")]
    [InlineData("""{"id":"openai/x","fineTunable":true,"tokenizer":"o200k_base","prices":{"training":-1}}""", "*negative price*")]
    [InlineData("""{"id":"openai/x","fineTunable":true,"tokenizer":"o200k_base","contextTokens":10,"maxTrainingExampleTokens":20,"prices":{}}""", "*longer than its context*")]
    [InlineData("""{"id":"openai/x","fineTunable":true,"tokenizer":"o200k_base","prices":{},"shutdownDate":"14/01/2027"}""", "*YYYY-MM-DD*")]
    [InlineData("""{"id":"openai/x","fineTunable":true,"tokenizer":"o200k_base","prices":{},"newJobsUntil":"2027-1-6"}""", "*YYYY-MM-DD*")]
    [InlineData("""{"id":"openai/x","fineTunable":true,"tokenizer":"o200k_base","prices":{},"shutdownDate":"2027-01-14","newJobsUntil":"2027-02-01"}""", "*new jobs after its shutdown*")]
    public void Catalog_refuses_a_bad_file_at_start_up(string model, string message)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, $$$"""{"version":"t","providers":[{"id":"openai","models":[{{{model}}}]}]}""");
            FluentActions.Invoking(() => BaseModelCatalog.Load(path)).Should().Throw<InvalidOperationException>().WithMessage(message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
