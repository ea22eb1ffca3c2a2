using System.Collections.Concurrent;

namespace ObjectaLabs.Orleans.ProviderEmulators;

/// <summary>Kinds of misbehaviour an emulator can be told to show.</summary>
public static class FaultKinds
{
    /// <summary>429 with <c>Retry-After</c> (seconds from <see cref="FaultRule.RetryAfterSeconds"/>, default 1).</summary>
    public const string RateLimit = "rate_limit";
    /// <summary>A 5xx (<see cref="FaultRule.Status"/>, default 500) with the provider's error envelope.</summary>
    public const string ServerError = "server_error";
    /// <summary>Waits <see cref="FaultRule.DelayMilliseconds"/> (default 5000) before answering normally.</summary>
    public const string Slow = "slow";
    /// <summary>200 with a truncated JSON body.</summary>
    public const string Malformed = "malformed";
    /// <summary>403 with the provider's error envelope (OpenAI: fine-tuning not allowed for the organization).</summary>
    public const string PermissionDenied = "permission_denied";
    /// <summary>401: the key is not accepted.</summary>
    public const string Unauthorized = "unauthorized";
    /// <summary>The next created job(s) fail halfway through training with <see cref="FaultRule.Message"/>.</summary>
    public const string FailJob = "fail_job";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(
        [RateLimit, ServerError, Slow, Malformed, PermissionDenied, Unauthorized, FailJob], StringComparer.Ordinal);
}

/// <summary>
/// One misbehaviour: applies to requests whose path contains <see cref="Path"/> (and whose method is
/// <see cref="Method"/>, when given), for the next <see cref="Count"/> matching requests or for a
/// <see cref="Rate"/> (0..1) of them. Neither count nor rate: every matching request.
/// </summary>
public sealed record class FaultRule(
    string Kind,
    int? Count = null,
    double? Rate = null,
    string? Path = null,
    string? Method = null,
    int? RetryAfterSeconds = null,
    int? DelayMilliseconds = null,
    int? Status = null,
    string? Message = null,
    string? Code = null)
{
    public string Id { get; init; } = "fault-" + Guid.NewGuid().ToString("N")[..8];
}

/// <summary>The faults an emulator is told to inject, and how many it injected of each kind.</summary>
public sealed class FaultSet(int seed)
{
    private readonly Lock _lock = new();
    private readonly List<(FaultRule Rule, int? Left)> _rules = [];
    private readonly Random _random = new(seed);
    private readonly ConcurrentDictionary<string, int> _injected = new(StringComparer.Ordinal);

    public FaultRule Add(FaultRule rule)
    {
        if (!FaultKinds.All.Contains(rule.Kind))
        {
            throw new ArgumentException($"Unknown fault kind '{rule.Kind}'. Known: {string.Join(", ", FaultKinds.All)}.");
        }
        if (rule.Rate is < 0 or > 1 || rule.Count is < 0)
        {
            throw new ArgumentException("'rate' must be within 0..1 and 'count' must not be negative.");
        }
        lock (_lock)
        {
            _rules.Add((rule, rule.Count));
        }
        return rule;
    }

    public void Clear()
    {
        lock (_lock)
        {
            _rules.Clear();
        }
    }

    public IReadOnlyList<FaultRule> Rules
    {
        get
        {
            lock (_lock)
            {
                return [.. _rules.Select(r => r.Rule)];
            }
        }
    }

    /// <summary>How many faults of <paramref name="kind"/> were injected so far.</summary>
    public int Injected(string kind) => _injected.TryGetValue(kind, out var n) ? n : 0;

    /// <summary>
    /// The fault to apply to this request, if any (consumes one of a counted rule). <paramref name="jobCreation"/>
    /// asks for a <see cref="FaultKinds.FailJob"/> rule only; otherwise those are skipped.
    /// </summary>
    public FaultRule? Take(string method, string path, bool jobCreation = false)
    {
        lock (_lock)
        {
            for (var i = 0; i < _rules.Count; i++)
            {
                var (rule, left) = _rules[i];
                if ((rule.Kind == FaultKinds.FailJob) != jobCreation
                    || (rule.Path is { Length: > 0 } p && !path.Contains(p, StringComparison.OrdinalIgnoreCase))
                    || (rule.Method is { Length: > 0 } m && !string.Equals(m, method, StringComparison.OrdinalIgnoreCase)))
                {
                    continue;
                }
                if (left is not null)
                {
                    if (left <= 0)
                    {
                        continue;
                    }
                    _rules[i] = (rule, left - 1);
                }
                else if (rule.Rate is { } rate && _random.NextDouble() >= rate)
                {
                    continue;
                }
                _injected.AddOrUpdate(rule.Kind, 1, (_, n) => n + 1);
                return rule;
            }
            return null;
        }
    }
}

/// <summary>A request an emulator received (the body only for JSON requests).</summary>
public sealed record class RecordedRequest(DateTimeOffset At, string Method, string Path, string Query, string? Authorization, string? Body, string? Fault);

/// <summary>Every request an emulator received, in order.</summary>
public sealed class RequestLog
{
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    public void Add(RecordedRequest request) => _requests.Enqueue(request);

    public IReadOnlyList<RecordedRequest> All => [.. _requests];

    public void Clear() => _requests.Clear();
}
