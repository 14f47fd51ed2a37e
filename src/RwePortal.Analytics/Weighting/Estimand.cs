namespace RwePortal.Analytics.Weighting;

/// <summary>The population the weights target.</summary>
public enum Estimand
{
    /// <summary>Average treatment effect in the whole population (stabilized inverse-probability weights).</summary>
    Ate,

    /// <summary>Average treatment effect in the treated.</summary>
    Att,

    /// <summary>Average treatment effect in the overlap population (overlap weights).</summary>
    Ato,
}
