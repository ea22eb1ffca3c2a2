using Npgsql;
using NpgsqlTypes;
using ObjectaLabs.Orleans.Deployment;

namespace ObjectaLabs.Orleans.Usage;

/// <summary>
/// The hourly usage rollups (<c>model_usage_rollups</c>): one row per organization, model, experiment, arm, fallback
/// flag and hour. A model grain is the only writer of its model's rows and writes each row's whole totals (not
/// increments), so a write that is repeated after a lost answer counts nothing twice.
/// </summary>
public sealed class UsageRollups(NpgsqlDataSource db)
{
    private const string Columns = """
        model, experiment_id, arm, fell_back, bucket_start, requests, successes, input_tokens, output_tokens, cost_usd,
        unpriced_requests, satisfaction_count, satisfaction_sum, satisfaction_squares, latency_histogram
        """;

    /// <summary>The stored totals of these keys (keys without a row are absent).</summary>
    public async Task<Dictionary<UsageKey, UsageTotals>> LoadAsync(Guid organizationId, IReadOnlyCollection<UsageKey> keys, CancellationToken cancellationToken = default)
    {
        await using var command = db.CreateCommand($"""
            SELECT {Columns} FROM model_usage_rollups r
            JOIN unnest(@models, @experiments, @arms, @fell_back, @hours) AS k(model, experiment_id, arm, fell_back, bucket_start)
              USING (model, experiment_id, arm, fell_back, bucket_start)
            WHERE r.organization_id = @organization
            """);
        command.Parameters.AddWithValue("organization", organizationId);
        AddKeys(command, keys);
        return await ReadAsync(command, cancellationToken);
    }

    /// <summary>Writes these keys' whole totals (inserted or replaced) in one statement.</summary>
    public async Task WriteAsync(Guid organizationId, IReadOnlyList<(UsageKey Key, UsageTotals Totals)> rows, CancellationToken cancellationToken = default)
    {
        if (rows.Count == 0)
        {
            return;
        }
        await using var command = db.CreateCommand($"""
            INSERT INTO model_usage_rollups (organization_id, {Columns})
            SELECT @organization, * FROM unnest(@models, @experiments, @arms, @fell_back, @hours, @requests, @successes, @input_tokens,
                @output_tokens, @cost, @unpriced, @ratings, @rating_sum, @rating_squares, @histograms)
            ON CONFLICT (organization_id, model, experiment_id, arm, fell_back, bucket_start) DO UPDATE SET
                requests = excluded.requests, successes = excluded.successes, input_tokens = excluded.input_tokens,
                output_tokens = excluded.output_tokens, cost_usd = excluded.cost_usd, unpriced_requests = excluded.unpriced_requests,
                satisfaction_count = excluded.satisfaction_count, satisfaction_sum = excluded.satisfaction_sum,
                satisfaction_squares = excluded.satisfaction_squares, latency_histogram = excluded.latency_histogram, updated_at = now()
            """);
        command.Parameters.AddWithValue("organization", organizationId);
        AddKeys(command, rows.Select(r => r.Key).ToList());
        Add(command, "requests", rows.Select(r => r.Totals.Requests));
        Add(command, "successes", rows.Select(r => r.Totals.Successes));
        Add(command, "input_tokens", rows.Select(r => r.Totals.InputTokens));
        Add(command, "output_tokens", rows.Select(r => r.Totals.OutputTokens));
        Add(command, "cost", rows.Select(r => r.Totals.CostUsd));
        Add(command, "unpriced", rows.Select(r => r.Totals.UnpricedRequests));
        Add(command, "ratings", rows.Select(r => r.Totals.SatisfactionCount));
        Add(command, "rating_sum", rows.Select(r => r.Totals.SatisfactionSum));
        Add(command, "rating_squares", rows.Select(r => r.Totals.SatisfactionSquares));
        Add(command, "histograms", rows.Select(r => r.Totals.Latency.Encoded));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The rows of one model (or all the organization's models) in [from, to), of one experiment when given.</summary>
    public async Task<Dictionary<UsageKey, UsageTotals>> QueryAsync(Guid organizationId, ModelChoice? model, DateTimeOffset from, DateTimeOffset to, Guid? experimentId,
        CancellationToken cancellationToken = default)
    {
        await using var command = db.CreateCommand($"""
            SELECT {Columns} FROM model_usage_rollups
            WHERE organization_id = @organization AND bucket_start >= @from AND bucket_start < @to
              AND (@model::text IS NULL OR model = @model) AND (@experiment::uuid IS NULL OR experiment_id = @experiment)
            """);
        command.Parameters.AddWithValue("organization", organizationId);
        command.Parameters.AddWithValue("from", from.ToUniversalTime());
        command.Parameters.AddWithValue("to", to.ToUniversalTime());
        command.Parameters.Add(new NpgsqlParameter<string?>("model", NpgsqlDbType.Text) { TypedValue = model is null ? null : ModelText(model) });
        command.Parameters.Add(new NpgsqlParameter<Guid?>("experiment", NpgsqlDbType.Uuid) { TypedValue = experimentId });
        return await ReadAsync(command, cancellationToken);
    }

    /// <summary>Per fine-tuned model of the organization: requests, cost, rating sum and rating count since <paramref name="from"/>.</summary>
    public async Task<Dictionary<Guid, (long Requests, decimal CostUsd, long RatingSum, long Ratings)>> FineTunedSinceAsync(Guid organizationId, DateTimeOffset from,
        CancellationToken cancellationToken = default)
    {
        await using var command = db.CreateCommand("""
            SELECT substring(model FROM 4)::uuid, sum(requests)::bigint, sum(cost_usd), sum(satisfaction_sum)::bigint, sum(satisfaction_count)::bigint
            FROM model_usage_rollups
            WHERE organization_id = @organization AND bucket_start >= @from AND model LIKE 'ft:%'
            GROUP BY model
            """);
        command.Parameters.AddWithValue("organization", organizationId);
        command.Parameters.AddWithValue("from", from.ToUniversalTime());
        var result = new Dictionary<Guid, (long, decimal, long, long)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result[reader.GetGuid(0)] = (reader.GetInt64(1), reader.GetDecimal(2), reader.GetInt64(3), reader.GetInt64(4));
        }
        return result;
    }

    /// <summary>How a model is named in the rollups: <c>ft:&lt;model id&gt;</c> or <c>base:&lt;catalog id&gt;</c>.</summary>
    public static string ModelText(ModelChoice model) => model.ModelId is { } id ? $"ft:{id:D}" : $"base:{model.BaseModel}";

    private static ModelChoice ParseModel(string text) =>
        text.StartsWith("ft:", StringComparison.Ordinal) ? ModelChoice.FineTuned(Guid.Parse(text.AsSpan(3))) : ModelChoice.Base(text["base:".Length..]);

    private static string ArmText(UsageArm arm) => arm switch
    {
        UsageArm.Control => "control",
        UsageArm.Candidate => "candidate",
        _ => "none",
    };

    private static UsageArm ParseArm(string text) => text switch
    {
        "control" => UsageArm.Control,
        "candidate" => UsageArm.Candidate,
        _ => UsageArm.None,
    };

    private static void AddKeys(NpgsqlCommand command, IReadOnlyCollection<UsageKey> keys)
    {
        Add(command, "models", keys.Select(k => ModelText(k.Model)));
        Add(command, "experiments", keys.Select(k => k.ExperimentId ?? Guid.Empty));
        Add(command, "arms", keys.Select(k => ArmText(k.Arm)));
        Add(command, "fell_back", keys.Select(k => k.FellBack));
        Add(command, "hours", keys.Select(k => k.Hour.ToUniversalTime()));
    }

    private static void Add<T>(NpgsqlCommand command, string name, IEnumerable<T> values) =>
        command.Parameters.Add(new NpgsqlParameter<T[]>(name, values.ToArray()));

    private static async Task<Dictionary<UsageKey, UsageTotals>> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var result = new Dictionary<UsageKey, UsageTotals>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var experiment = reader.GetGuid(1);
            var key = new UsageKey(ParseModel(reader.GetString(0)), experiment == Guid.Empty ? null : experiment, ParseArm(reader.GetString(2)),
                reader.GetBoolean(3), reader.GetFieldValue<DateTimeOffset>(4));
            result[key] = new UsageTotals(reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8), reader.GetDecimal(9),
                reader.GetInt64(10), reader.GetInt64(11), reader.GetInt64(12), reader.GetInt64(13), new LatencyHistogram(reader.GetFieldValue<byte[]>(14)));
        }
        return result;
    }
}
