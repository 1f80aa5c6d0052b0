namespace Firestarter.Diagnostics;

/// <summary>
/// Stable event ids of the broker's log events, one range per component, so that they can be filtered on and
/// alerted on without parsing messages.
/// </summary>
internal static class EventIds
{
    // 1xx: polls (GET /warm-start)
    public const int PollParked = 100;
    public const int PollRejected = 101;
    public const int PollEnded = 102;
    public const int PollRefusedWhileDraining = 103;

    // 2xx: dispatches (POST /warm-start)
    public const int DispatchWarmStarted = 200;
    public const int DispatchColdStarted = 201;
    public const int DispatchRejected = 202;
    public const int HandoffControllerGone = 203;
    public const int DispatchClientGone = 204;

    // 3xx: the cold-start path
    public const int ForwardFailed = 300;
    public const int CircuitOpened = 301;
    public const int CircuitClosed = 302;
    public const int CircuitHalfOpened = 303;
    public const int Forwarded = 304;

    // 4xx: lifetime
    public const int Started = 400;
    public const int DrainStarted = 401;
    public const int PollsExpired = 402;

    // 5xx: routing and configuration (none logged yet)

    // 6xx: operations (admin endpoints, health)
    public const int OperationsMapped = 600;
    public const int DestinationUnreachable = 601;
    public const int DestinationReachable = 602;

    // 7xx: security and limits
    public const int TokenRefused = 700;
    public const int BareIdRefused = 701;
    public const int TokenAcceptedUnverified = 702;
    public const int BareIdAccepted = 703;
    public const int DispatchUnauthorized = 704;
    public const int DispatchOpen = 705;
    public const int ParkLimitReached = 706;
    public const int RateLimited = 707;

    // 8xx: the cluster (several instances sharing one warm pool through Redis)
    public const int ClusterConnected = 800;
    public const int ClusterConnectionLost = 801;
    public const int ClusterInstanceUrl = 802;
    public const int ClusterRepublishing = 803;
    public const int ClusterDirectoryWriteFailed = 804;
    public const int ClusterHeartbeatFailed = 805;
    public const int ClusterWithdrawn = 806;
    public const int ClusterHandedOn = 807;
    public const int ClusterHandOnMissed = 808;
    public const int ClusterHandOnUnknown = 809;
    public const int ClusterHandOnRefused = 810;
    public const int ClusterLookupFailed = 811;
    public const int ClusterHopReceived = 812;
    public const int ClusterHopRefused = 813;
    public const int ClusterNoInstanceUrl = 814;
    public const int ClusterInstanceJoined = 815;
    public const int ClusterInstanceLeft = 816;
    // 9xx: confirmation of warm starts and the poll guard window
    public const int ConfirmationNoted = 900;
    public const int ConfirmationControllerMismatch = 901;
    public const int DispatchUnconfirmed = 902;
    public const int DispatchConfirmed = 903;
    public const int DispatchAwaitedRepoll = 904;
    public const int ConfirmationAlreadyPending = 905;
    public const int DispatchNotConfirmable = 906;
    public const int ConfirmationRelayFailed = 907;
    public const int ConfirmationRelayed = 908;
    public const int ConfirmationRelayPublishFailed = 909;
    public const int ConfirmationRelaySubscribeFailed = 910;
}
