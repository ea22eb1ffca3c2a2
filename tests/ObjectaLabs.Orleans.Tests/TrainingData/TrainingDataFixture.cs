using Dapper;
using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Conversations;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Quality;
using ObjectaLabs.Orleans.Tests.Infrastructure;
using ObjectaLabs.Orleans.Tokens;
using ObjectaLabs.Orleans.Uploads;

namespace ObjectaLabs.Orleans.Tests.TrainingData;

/// <summary>
/// A fresh migrated database with the training-data stores wired to it as the silo wires them, plus
/// helpers that create organization and agent rows. Tests use a fresh organization each, so they never collide.
/// </summary>
public sealed class TrainingDataFixture : IAsyncLifetime
{
    public TestDatabase Database { get; private set; } = null!;
    public ExampleRows Examples { get; private set; } = null!;
    public ConversationRows Conversations { get; private set; } = null!;
    public ConversationImporter Importer { get; private set; } = null!;
    /// <summary>The upload pool as the silo builds it (bounded, with the server-side idle-transaction limit).</summary>
    public UploadDataSource Uploads { get; private set; } = null!;
    public static BaseModelCatalog Models { get; } = BaseModelCatalog.Load(DataFile.DefaultPath("models.json"));
    public static TokenizerCache Tokenizers { get; } = new();

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync();
        Examples = new ExampleRows(Database.DataSource);
        Conversations = new ConversationRows(Database.DataSource);
        Importer = new ConversationImporter(Conversations, Examples);
        Uploads = new UploadDataSource(Database.ConnectionString, Microsoft.Extensions.Options.Options.Create(new UploadSettings()));
    }

    public async Task DisposeAsync()
    {
        await Uploads.DisposeAsync();
        await Database.DisposeAsync();
    }

    public QualityAnalyzer Analyzer { get; } = new(Tokenizers);

    /// <summary>An organization row on <paramref name="plan"/> (stores check the plan they were given against the row's).</summary>
    public async Task<Guid> NewOrganizationAsync(string plan = "business")
    {
        var id = Guid.NewGuid();
        await using var connection = await Database.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("INSERT INTO organizations (id, name, plan) VALUES (@id, 'Test org', @plan)", new { id, plan });
        return id;
    }

    public async Task<Guid> NewAgentAsync(Guid organizationId, string name = "Support")
    {
        var id = Guid.NewGuid();
        await using var connection = await Database.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("INSERT INTO agents (id, organization_id, name) VALUES (@id, @organizationId, @name)", new { id, organizationId, name });
        return id;
    }

    public async Task<long> CountAsync(string sql, object? parameters = null)
    {
        await using var connection = await Database.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(sql, parameters);
    }

    /// <summary>A valid one-turn example (with an optional system message) as one JSONL line.</summary>
    public static string Chat(string user, string assistant, string? system = null) =>
        System.Text.Json.JsonSerializer.Serialize(new
        {
            messages = (system is null ? Array.Empty<object>() : [new { role = "system", content = system }])
                .Concat([new { role = "user", content = user }, new { role = "assistant", content = assistant }]),
        });

    public static NewExampleRow Row(string json, Guid? agentId = null, IReadOnlyList<string>? tags = null, bool validated = false, DateTimeOffset? at = null, decimal? quality = null)
    {
        var example = CheckedExample.Check(json, 1, [], null) ?? throw new ArgumentException($"Invalid example {json}");
        var now = at ?? DateTimeOffset.UtcNow;
        return new NewExampleRow(Guid.CreateVersion7(now), agentId, example, ExampleSource.Manual, tags ?? [], now,
            ValidatedBy: validated ? "tester" : null, QualityScore: validated ? quality ?? 0.9m : null);
    }
}
