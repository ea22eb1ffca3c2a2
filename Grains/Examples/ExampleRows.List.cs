using System.Globalization;
using System.Text;
using Dapper;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Examples;

/// <summary>
/// The SQL for one page of the example list: filters, keyset pagination on (sort key, id) and the
/// validated/pending counts. A cursor is the last row's sort key and id, base64url-encoded.
/// </summary>
internal sealed record class ExampleListQuery(string Sql, string CountSql, DynamicParameters Parameters, int Limit)
{
    public const int MaxLimit = 200;

    public static ExampleListQuery Build(Guid organizationId, ExampleListRequest request)
    {
        var limit = Math.Clamp(request.Limit, 1, MaxLimit);
        var p = new DynamicParameters();
        p.Add("organizationId", organizationId);
        var filters = new StringBuilder("organization_id = @organizationId");
        var f = request.Filter ?? new ExampleFilter();
        if (f.AgentId is { } agent)
        {
            filters.Append(" AND agent_id = @agentId");
            p.Add("agentId", agent);
        }
        if (f.Source is { } source)
        {
            filters.Append(" AND source = @source");
            p.Add("source", SourceNames.Of(source));
        }
        if (!string.IsNullOrWhiteSpace(f.Tag))
        {
            filters.Append(" AND tags @> ARRAY[@tag]::text[]");
            p.Add("tag", f.Tag.Trim());
        }
        if (!string.IsNullOrWhiteSpace(f.Search))
        {
            // Matches the text of any message (content strings, or the text parts of content lists).
            filters.Append("""
                 AND EXISTS (SELECT 1 FROM jsonb_array_elements(messages) m
                             WHERE m->>'content' ILIKE @search ESCAPE '\')
                """);
            p.Add("search", "%" + EscapeLike(f.Search.Trim()) + "%");
        }
        var countSql = $"SELECT count(*) FILTER (WHERE is_validated)::int AS Validated, count(*) FILTER (WHERE NOT is_validated)::int AS Pending FROM training_examples WHERE {filters}";
        if (f.Validation != ValidationFilter.All)
        {
            filters.Append(f.Validation == ValidationFilter.Validated ? " AND is_validated" : " AND NOT is_validated");
        }
        var (key, order, comparison) = request.Sort switch
        {
            ExampleSort.Quality => ("coalesce(quality_score, -1)", "DESC", "<"),
            ExampleSort.Source => ("source", "ASC", ">"),
            _ => ("created_at", "DESC", "<"),
        };
        if (request.Cursor is { Length: > 0 } cursor)
        {
            var (cursorKey, cursorId) = ParseCursor(request.Sort, cursor);
            var cast = request.Sort switch { ExampleSort.Quality => "::numeric", ExampleSort.Source => "::text", _ => "::timestamptz" };
            filters.Append($" AND ({key}, id) {comparison} (@cursorKey{cast}, @cursorId)");
            p.Add("cursorKey", cursorKey);
            p.Add("cursorId", cursorId);
        }
        p.Add("take", limit + 1);
        var sql = $"SELECT {ExampleRow.Columns} FROM training_examples WHERE {filters} ORDER BY {key} {order}, id {order} LIMIT @take";
        return new ExampleListQuery(sql, countSql, p, limit);
    }

    public static string Cursor(ExampleSort sort, ExampleRow last)
    {
        var key = sort switch
        {
            ExampleSort.Quality => (last.QualityScore ?? -1m).ToString(CultureInfo.InvariantCulture),
            ExampleSort.Source => last.Source,
            _ => DateTime.SpecifyKind(last.CreatedAt, DateTimeKind.Utc).Ticks.ToString(CultureInfo.InvariantCulture),
        };
        return Convert.ToBase64String(Encoding.UTF8.GetBytes($"{key}|{last.Id:N}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>The cursor's sort key (typed for the sort it was issued for) and id; anything else is a validation problem.</summary>
    private static (object Key, Guid Id) ParseCursor(ExampleSort sort, string cursor)
    {
        try
        {
            var base64 = cursor.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
            var bar = text.LastIndexOf('|');
            var key = text[..bar];
            object typed = sort switch
            {
                ExampleSort.Date => new DateTime(long.Parse(key, CultureInfo.InvariantCulture), DateTimeKind.Utc),
                ExampleSort.Quality => decimal.Parse(key, CultureInfo.InvariantCulture),
                _ => key,
            };
            return (typed, Guid.ParseExact(text[(bar + 1)..], "N"));
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            throw ProblemException.Invalid("cursor", "The cursor is not one this list returned (for this sort order).");
        }
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
