using ObjectaLabs.Orleans.Deployment;
using ObjectaLabs.Orleans.Usage;

namespace ObjectaLabs.Orleans.Experiments;

/// <summary>An experiment's results: its usage by arm from the rollups (requests the fallback served apart), and the analysis of it.</summary>
public static class ExperimentResultsReader
{
    /// <summary>The width of the satisfaction scale (1–5): an experiment's margin, a fraction, times this is satisfaction's margin.</summary>
    public const double SatisfactionScale = 4;

    public static async Task<ExperimentResults> ReadAsync(UsageRollups rollups, Guid organizationId, Experiment experiment, DateTimeOffset now)
    {
        var end = experiment.EndedAt ?? now;
        var rows = await rollups.QueryAsync(organizationId, null, UsageKey.HourOf(experiment.StartedAt), UsageKey.HourOf(end).AddHours(1), experiment.Id);
        UsageTotals Arm(UsageArm arm, bool fellBack) =>
            rows.Where(r => r.Key.Arm == arm && r.Key.FellBack == fellBack).Aggregate(UsageTotals.Empty, (a, r) => a.Merge(r.Value));
        var control = Arm(UsageArm.Control, false);
        var candidate = Arm(UsageArm.Candidate, false);
        var controlFallback = Arm(UsageArm.Control, true).Requests;
        var candidateFallback = Arm(UsageArm.Candidate, true).Requests;
        var options = ExperimentOptions.Default with { MinimumSamplePerArm = experiment.MinimumSample };
        var analysis = new ExperimentAnalysis(
            ExperimentAnalyzer.Compare(ExperimentMetric.SuccessRate, control.SuccessSample, candidate.SuccessSample, experiment.Margin, options),
            ExperimentAnalyzer.Compare(ExperimentMetric.Satisfaction, control.SatisfactionSample, candidate.SatisfactionSample, experiment.Margin * SatisfactionScale, options),
            // Assignment is what the split governs: requests the fallback served count in the arm they were assigned.
            ExperimentAnalyzer.CheckSampleRatio(control.Requests + controlFallback, candidate.Requests + candidateFallback, experiment.CandidateShare, options.SampleRatioPValue));
        return new ExperimentResults(experiment.Id, experiment.Status, experiment.Control, experiment.Candidate, experiment.CandidateShare,
            experiment.StartedAt, experiment.EndedAt, UsageSummary.Of([control]), UsageSummary.Of([candidate]), controlFallback, candidateFallback, analysis);
    }
}
