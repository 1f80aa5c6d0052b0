using Firestarter.Cluster;
using Firestarter.ColdStart;
using Firestarter.Confirmation;
using Firestarter.Diagnostics;
using Firestarter.Dispatching;
using Firestarter.Health;
using Firestarter.Lifetime;
using Firestarter.Limits;
using Firestarter.Matching;
using Firestarter.Admin;
using Firestarter.Polling;
using Firestarter.Protocol;
using Firestarter.Routing;
using Firestarter.Status;
using Firestarter.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

// In the DI namespace, like AddReverseProxy, so it is found where services are configured.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the warm-start broker's services.</summary>
public static class FirestarterServiceCollectionExtensions
{
    /// <summary>
    /// Adds the warm-start broker, with options bound from the <c>Firestarter</c> section of
    /// <paramref name="configuration"/> (the application's root configuration) and validated when the host starts.
    /// Add YARP itself with <c>AddReverseProxy()</c> and the middleware with <c>UseWarmStart()</c>.
    /// </summary>
    /// <remarks>
    /// Besides the broker's own services, it adds to the application only what those need, each by name, and changes
    /// nothing the application already set: <see cref="TimeProvider.System"/> unless a <see cref="TimeProvider"/> is
    /// registered; <c>AddMetrics()</c>; <c>AddHealthChecks()</c> with one check, <c>firestarter</c>, tagged
    /// <c>ready</c>; <c>AddRateLimiter()</c> with two named policies, <c>firestarter-connect</c> and
    /// <c>firestarter-dispatch</c>, that answer their own rejections (the application's rejection status and answer
    /// are left alone); a YARP active health check policy, <c>Firestarter.Reachable</c>; and a YARP configuration
    /// filter that changes only routes with <c>Firestarter</c> metadata. It adds no middleware and does not change
    /// the server's transport (see <see cref="Firestarter.FirestarterOptions.ConfirmDelivery"/>).
    /// </remarks>
    public static IServiceCollection AddFirestarter(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(Firestarter.FirestarterOptions.SectionName);
        // Unknown keys are errors, so that a misspelt option stops the host instead of being ignored.
        services.AddOptions<Firestarter.FirestarterOptions>().Bind(section, binder => binder.ErrorOnUnknownConfiguration = true)
            // The platform's own name for the secret, so a broker beside the supervisor can share its environment.
            .PostConfigure(options => options.Security.DeploymentTokens.Secret ??= configuration[DeploymentTokenOptions.SecretEnvironmentVariable]);
        return services.AddFirestarterCore();
    }

    /// <summary>Adds the warm-start broker with options set in code, validated when the host starts.</summary>
    /// <remarks>Registers what the other overload does (see its remarks).</remarks>
    public static IServiceCollection AddFirestarter(this IServiceCollection services, Action<Firestarter.FirestarterOptions>? configure = null)
    {
        var options = services.AddOptions<Firestarter.FirestarterOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.PostConfigure(o => o.Security.DeploymentTokens.Secret ??= Environment.GetEnvironmentVariable(DeploymentTokenOptions.SecretEnvironmentVariable));

        return services.AddFirestarterCore();
    }

    private static IServiceCollection AddFirestarterCore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(descriptor => descriptor.ServiceType == typeof(FirestarterMarker)))
        {
            return services;
        }

        services.AddSingleton<FirestarterMarker>();
        services.AddOptions<Firestarter.FirestarterOptions>().ValidateOnStart()
            // A handed-on dispatch may wait at the other instance for a re-poll and for its start: the hand-on allows for both.
            .PostConfigure(o => o.Cluster.AnswerHold =
                o.EffectiveRepollWait + (o.Confirmation.Enabled ? o.Confirmation.Timeout : TimeSpan.Zero));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Firestarter.FirestarterOptions>, Firestarter.FirestarterOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();

        // Each folder reads its own section only, so none of them depends on the options' root.
        services.AddSingleton(sp => Options.Options.Create(sp.GetRequiredService<IOptions<Firestarter.FirestarterOptions>>().Value.ColdStart));
        services.AddSingleton(sp => Options.Options.Create(sp.GetRequiredService<IOptions<Firestarter.FirestarterOptions>>().Value.Confirmation));
        services.AddSingleton(sp => Options.Options.Create(sp.GetRequiredService<IOptions<Firestarter.FirestarterOptions>>().Value.Security));
        services.AddSingleton(sp => Options.Options.Create(sp.GetRequiredService<IOptions<Firestarter.FirestarterOptions>>().Value.Limits));
        services.AddSingleton(sp => Options.Options.Create(sp.GetRequiredService<IOptions<Firestarter.FirestarterOptions>>().Value.Operations));
        services.AddSingleton(sp => Options.Options.Create(sp.GetRequiredService<IOptions<Firestarter.FirestarterOptions>>().Value.Cluster));
        services.AddSingleton(sp => new WarmPool(
            sp.GetRequiredService<IOptions<Firestarter.FirestarterOptions>>().Value.Selection, sp.GetRequiredService<ClusterFeature>().Publisher));
        services.AddSingleton<DeploymentIdentityResolver>();
        services.AddSingleton<FirestarterMetrics>();
        services.AddSingleton<DispatchAuthorization>();
        services.AddSingleton<ParkingLimits>();
        services.AddHostedService<SecurityStartupCheck>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<Firestarter.FirestarterOptions>, ILoggerFactory>(
            (limiter, firestarter, loggers) => ClientRateLimiting.AddPolicies(limiter, firestarter.Value.RateLimits, loggers));
        services.AddSingleton<ConnectHandler>();
        services.AddSingleton<PollHandler>();
        services.AddSingleton<DispatchHandler>();
        services.AddSingleton<ConfirmationRegistry>();
        services.AddSingleton<ConfirmationHandler>();
        services.AddSingleton<ColdStartForwarder>();
        services.AddSingleton<ColdStartHandler>();
        services.AddSingleton<IProxyConfigFilter, WarmStartRouteFilter>();
        services.AddHostedService<WarmPoolLifetime>();
        services.AddFirestarterCluster();

        // Operations: status windows, admin endpoints' access, readiness.
        services.AddSingleton<DispatchWindows>();
        services.AddSingleton<AdminAccess>();
        services.AddSingleton<StatusReport>();
        services.AddSingleton<StatusPage>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Yarp.ReverseProxy.Health.IActiveHealthCheckPolicy, ReachableHealthPolicy>());
        services.AddHealthChecks().AddCheck<ReadinessCheck>("firestarter", tags: [ReadinessCheck.ReadyTag]);
        return services;
    }
}

/// <summary>Shows that <c>AddFirestarter</c> ran, so <c>UseWarmStart</c> can say so when it did not.</summary>
internal sealed class FirestarterMarker;
